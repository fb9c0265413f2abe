"""`oms.db.Append`: a batch's rows go as one `INSERT … VALUES` sent with the rest of its
write when they are few, as a binary `COPY` when they are many. Both must store the very
same values (the casts of the `INSERT` stand in for the column types `COPY` is given), and
the `INSERT` prepares a statement only when server-side binding is on: turning it off is
what the README tells users of a pooler that does not keep prepared statements.

`oms.db.sent_together` sends the statements its block queued together, at the block's end
or when a result is read inside it, not each as it is queued (libpq still sends by itself
past 8 KiB); large statements and results, errors and reads inside the block behave as
they did."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.db import DataError, connection, transaction

from apps.processing.models import LedgerAccount
from oms import db

pytestmark = pytest.mark.django_db

OUTBOX_COLUMNS = ("event_id", "topic", "key", "body", "created_at")
POSTING_COLUMNS = ("transaction_id", "account_id", "bucket", "amount")


def outbox_rows(prefix: str, count: int) -> list[tuple[Any, ...]]:
    moment = datetime(2026, 12, 6, 12, 30, 15, 123456, tzinfo=UTC)
    return [(f"{prefix}-{n}", "executions", "BTC-USDT", b'{"a": "\\u00e9"}\x00' + bytes([n]),
             moment) for n in range(count)]


def stored(table: str, columns: tuple[str, ...], where: str, values: list[Any]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where} "  # noqa: S608
                       f"ORDER BY {columns[0]}", values)
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cursor.fetchall()]


def append(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> db.Append:
    written = db.Append(table, columns, rows)
    with transaction.atomic(), db.sent_together(appending=[written]):
        pass
    return written


def test_few_rows_go_as_an_insert_and_many_as_a_copy_with_the_same_values() -> None:
    few = append("processing_outboxevent", OUTBOX_COLUMNS, outbox_rows("few", 3))
    many = append("processing_outboxevent", OUTBOX_COLUMNS,
                  outbox_rows("many", db.INSERT_VALUES_MAX // len(OUTBOX_COLUMNS) + 1))
    assert not few.copied
    assert many.copied
    as_inserted = stored("processing_outboxevent", OUTBOX_COLUMNS, "event_id LIKE %s",
                         ["few-%"])
    as_copied = stored("processing_outboxevent", OUTBOX_COLUMNS, "event_id = ANY(%s)",
                       [["many-0", "many-1", "many-2"]])
    assert as_inserted == outbox_rows("few", 3)
    assert [row[1:] for row in as_inserted] == [row[1:] for row in as_copied]


def test_an_insert_casts_text_ids_and_keeps_amounts_exact() -> None:
    account = LedgerAccount.objects.create(kind=LedgerAccount.Kind.EXTERNAL, asset="USDT")
    ids = [uuid.uuid4(), uuid.uuid4()]
    amounts = [Decimal("12345678901234567890.123456789012345678"),
               Decimal("-0.000000000000000001")]
    moment = datetime(2026, 12, 6, tzinfo=UTC)
    written = [db.Append("processing_ledgertransaction", ("id", "kind", "reference", "created_at"),
                         [(str(ids[0]), "deposit", f"ref-{ids[0]}", moment),  # a text id
                          (ids[1], "deposit", f"ref-{ids[1]}", moment)]),
               db.Append("processing_ledgerposting", POSTING_COLUMNS,
                         [(str(ids[0]), account.pk, "available", amounts[0]),
                          (ids[1], account.pk, "reserved", amounts[1])])]
    with transaction.atomic(), db.sent_together(appending=written):
        pass
    assert sorted(stored("processing_ledgerposting", POSTING_COLUMNS,
                         "transaction_id = ANY(%s)", [ids])) == sorted(
        [(ids[0], account.pk, "available", amounts[0]),
         (ids[1], account.pk, "reserved", amounts[1])])


def prepared_inserts(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       [f"INSERT INTO {table} %"])
        (count,) = cursor.fetchone()
    return int(count)


@pytest.mark.parametrize("server_side", [True, False])
def test_an_insert_is_prepared_only_under_server_side_binding(
        server_side: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding",
                        server_side)
    before = prepared_inserts("processing_outboxevent")
    for run in range(8):  # more than DB_PREPARE_THRESHOLD (5) times, the same shape
        append("processing_outboxevent", OUTBOX_COLUMNS, outbox_rows(f"run{run}", 2))
    assert (prepared_inserts("processing_outboxevent") > before) is server_side


LOCK_KEY = 0x5E47_70_6E  # any key no other code takes


def lock_is_free() -> bool:
    """Whether another session can take the transaction-level advisory lock `LOCK_KEY`
    (it gives it back at once: autocommit)."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        (free,) = other.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY]).fetchone()
    return bool(free)


def lock_stays_free(seconds: float) -> bool:
    """False as soon as another session holds `LOCK_KEY`; True if it stays free."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not lock_is_free():
            return False
        time.sleep(0.02)
    return True


def test_statements_reach_the_server_together_at_the_end_of_the_block() -> None:
    with transaction.atomic():
        with db.sent_together():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            # Sent as it was queued, the server would hold the lock within milliseconds.
            assert lock_stays_free(seconds=1.0)
        assert not lock_is_free()


def test_a_result_read_inside_the_block_sends_what_was_queued_before_it() -> None:
    with transaction.atomic(), db.sent_together(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute("SELECT 41 + 1")
        assert cursor.fetchone() == (42,)
        assert not lock_is_free()


def insert_then_divide_by_zero(reference: str) -> None:
    with transaction.atomic(), db.sent_together(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO processing_ledgertransaction (id, kind, reference, "
                       "created_at) VALUES (%s, 'deposit', %s, now())",
                       [uuid.uuid4(), reference])
        cursor.execute("SELECT 1 / 0")


def test_an_error_in_the_block_surfaces_at_its_end_and_nothing_of_it_is_applied() -> None:
    reference = "sent-together-error"
    with pytest.raises(DataError, match="division by zero"):
        insert_then_divide_by_zero(reference)
    assert stored("processing_ledgertransaction", ("reference",), "reference = %s",
                  [reference]) == []


def test_large_statements_and_results_inside_the_block_arrive_whole() -> None:
    """Past 8 KiB libpq sends by itself while statements are queued; a result read
    inside the block then waits for the server while more is still to be sent."""
    text = "é" * 200_000  # 400 KB of parameter
    with transaction.atomic(), db.sent_together(), \
            connection.cursor() as sized, connection.cursor() as rows:
        sized.execute("SELECT octet_length(%s::text), length(%s::text)", [text, text])
        rows.execute("SELECT n, repeat('x', 1000) FROM generate_series(1, %s) AS n", [3000])
        fetched = rows.fetchall()  # 3 MB, read inside the block
        assert sized.fetchone() == (400_000, 200_000)
    assert len(fetched) == 3000
    assert fetched[-1] == (3000, "x" * 1000)


def divide_by_zero_then_read() -> None:
    with transaction.atomic(), db.sent_together(), \
            connection.cursor() as failing, connection.cursor() as after:
        failing.execute("SELECT 1 / 0")
        after.execute("SELECT 2")
        after.fetchone()


def test_a_read_inside_the_block_after_a_failed_statement_raises_its_error() -> None:
    with pytest.raises(DataError, match="division by zero"):
        divide_by_zero_then_read()
    with connection.cursor() as cursor:  # the connection is usable again
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)

"""Model field shapes and bulk writes every app shares."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import psycopg
from django.db import connection, models
from psycopg.generators import send

from oms.money import DECIMAL_PLACES, MAX_DIGITS


def amount_field(**kwargs: Any) -> models.DecimalField:  # type: ignore[type-arg]
    """An exact amount column: NUMERIC(38, 18) (D8)."""
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


T = TypeVar("T")
Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Read(Generic[T]):
    """Read statements and how their rows (one list per statement) make a value.

    Reads that do not depend on each other are sent together (`read_together`): a
    processor batch's dozen reads cost one wait for the database instead of one each. On
    a busy machine each wait is more than the query: the database's process must be
    scheduled, and the answer waits for the GIL behind the writer thread (D10)."""

    statements: tuple[tuple[str, Sequence[Any]], ...]
    parse: Callable[..., T]

    @classmethod
    def one(cls, sql: str, params: Sequence[Any], parse: Callable[[Rows], T]) -> Read[T]:
        return cls(((sql, params),), parse)

    def run(self) -> T:
        """This read on its own."""
        value: T = read_together([self])[0]
        return value


def read_together(reads: Sequence[Read[Any]]) -> list[Any]:
    """Each read's value, in order, from one round trip: psycopg's pipeline mode sends
    every statement before the first answer is awaited. Statements run in the current
    transaction (its snapshot, its locks), in order; an error surfaces as Django's."""
    statements = [statement for read in reads for statement in read.statements]
    with connection.wrap_database_errors:
        cursors = []
        with sent_together() if len(statements) > 1 else nullcontext():
            for sql, params in statements:
                cursor = connection.cursor()
                cursor.execute(sql, params)
                cursors.append(cursor)
        # A statement without rows (`SET …`) answers an empty list.
        answers = iter([cursor.fetchall() if cursor.description is not None else []
                        for cursor in cursors])
        for cursor in cursors:
            cursor.close()
    return [read.parse(*(next(answers) for _ in read.statements)) for read in reads]


# An append of at most this many values is one `INSERT … VALUES` sent with the batch's
# other statements; above it, a binary `COPY`. A `COPY` costs two waits for the database
# (its start, then its end) and cannot be sent with anything else: a small batch's six
# of them were twelve of its write's fifteen waits. Large appends stay `COPY`, the
# cheapest per row: this size keeps a batch of a few dozen orders on `INSERT`s and a
# 500-order batch's tables on `COPY`s (`make bench-processor` the same as before, within
# its run-to-run noise).
INSERT_VALUES_MAX = 500


@dataclass(frozen=True, slots=True)
class Append:
    """Rows to append to a table in one statement (`sent_together(appending=…)`)."""

    table: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]

    @property
    def copied(self) -> bool:
        """Too many values for an `INSERT`: a `COPY` of its own."""
        return len(self.rows) * len(self.columns) > INSERT_VALUES_MAX


@contextmanager
def sent_together(*, appending: Sequence[Append] = ()) -> Iterator[None]:
    """Statements executed inside are sent without waiting for each one's answer
    (psycopg's pipeline mode); the block's end waits once for them all, and the first
    error among them surfaces there, as Django's. A result read inside waits for
    everything sent before it; `COPY` cannot run inside.

    `appending`: rows to insert first. The large ones are copied before the block (a
    `COPY` each), the small ones are the block's first statements (`INSERT … VALUES`)."""
    for append in appending:
        if append.copied:
            copy_rows(append.table, append.columns, append.rows)
    inserted = [append for append in appending if append.rows and not append.copied]
    for append in inserted:
        _types_of(append.table, append.columns)  # before the pipeline, once per process
    with connection.wrap_database_errors:
        connection.ensure_connection()
        with connection.connection.pipeline() as pipeline:
            _send_at_sync(pipeline)
            for append in inserted:
                insert_values(append)
            yield


def _send_at_sync(pipeline: psycopg.Pipeline) -> None:
    """Make `pipeline` send what it queued together, when it is synced, rather than
    each statement as it is queued.

    psycopg's pipeline hands every statement to libpq and flushes it to the server at
    once (`psycopg.generators.pipeline_communicate`: a `poll` and a `send` per
    statement), and each arrival wakes the database's process. Here each queued
    statement only goes into libpq's output buffer, which libpq sends by itself only
    once it holds 8 KiB (so large statements still leave in pieces as they are queued);
    the sync (the block's end) or a result read inside the block (psycopg sends a flush
    request then) sends the rest, reading what the server answers meanwhile, as
    psycopg's `send` does. Results are read at the sync as before, so the first error
    still surfaces there. This replaces one private method of psycopg's `Pipeline` (its
    version is pinned; `tests/integration/test_db_appends.py` checks that a small
    statement does not reach the server before the block ends, which fails if psycopg
    stops calling the method)."""
    pgconn = pipeline.pgconn
    commands = pipeline.command_queue

    def communicate() -> Generator[Any, Any, None]:
        synced = False
        while commands:
            command = commands.popleft()
            command()  # into libpq's buffer (sent by libpq itself past 8 KiB)
            synced = synced or command == pgconn.pipeline_sync
        if synced:
            yield from send(pgconn)

    pipeline._communicate_gen = communicate  # type: ignore[method-assign]


def insert_values(append: Append) -> None:
    """Append rows with one `INSERT … VALUES` (in a pipeline: sent, not awaited)."""
    values = [value for row in append.rows for value in row]
    # PostgreSQL's own placeholders: psycopg does not parse the statement (it would,
    # each time, for one too long for its cache). They are bound by the server whatever
    # `DB_SERVER_SIDE_BINDING` says, but prepared only as it allows (a pooler that does
    # not keep prepared statements is why one turns it off).
    server_side = connection.settings_dict["OPTIONS"].get("server_side_binding", False)
    with psycopg.RawCursor(connection.connection) as cursor:
        cursor.execute(_insert_sql(append), values, prepare=None if server_side else False)


def _insert_sql(append: Append) -> str:
    """One `INSERT … VALUES` of the rows, each value cast to its column's type (as `COPY`
    reads them), so a text id fills a uuid column and a NULL any column."""
    types = _types_of(append.table, append.columns).names
    width = len(types)
    rows = (f"({', '.join(f'${row * width + n + 1}::{name}' for n, name in enumerate(types))})"
            for row in range(len(append.rows)))
    return (f"INSERT INTO {append.table} ({', '.join(append.columns)}) "  # noqa: S608 - callers' constants
            f"VALUES {', '.join(rows)}")


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append rows to a table with PostgreSQL's binary `COPY … FROM STDIN`: one round trip
    for any number of rows, the fastest bulk insert there is (D10); binary, because it
    skips formatting and parsing text (five times faster for the outbox's bodies). Returns
    how many."""
    rows = list(rows)
    if not rows:
        return 0
    names = ", ".join(columns)
    types = _types_of(table, columns).oids
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper (errors: Django's)
        with raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    return len(rows)


@dataclass(frozen=True, slots=True)
class _ColumnTypes:
    oids: list[int]  # for binary `COPY`
    names: list[str]  # for the casts of `INSERT … VALUES`


_column_types: dict[tuple[str, tuple[str, ...]], _ColumnTypes] = {}


def _types_of(table: str, columns: Sequence[str]) -> _ColumnTypes:
    """The columns' types (asked once per process, outside a `COPY`: it holds the
    connection)."""
    key = (table, tuple(columns))
    if key not in _column_types:
        with connection.cursor() as cursor:
            cursor.execute("SELECT attname, atttypid, format_type(atttypid, NULL) "
                           "FROM pg_attribute WHERE attrelid = %s::regclass "
                           "AND attname = ANY(%s)", [table, list(columns)])
            types = {name: (oid, type_name) for name, oid, type_name in cursor.fetchall()}
        _column_types[key] = _ColumnTypes(oids=[types[column][0] for column in columns],
                                          names=[types[column][1] for column in columns])
    return _column_types[key]

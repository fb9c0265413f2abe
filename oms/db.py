"""Model field shapes and bulk writes every app shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, models

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


@contextmanager
def sent_together() -> Iterator[None]:
    """Statements executed inside are sent without waiting for each one's answer
    (psycopg's pipeline mode); the block's end waits once for them all, and the first
    error among them surfaces there, as Django's. A result read inside waits for
    everything sent before it; `COPY` cannot run inside."""
    with connection.wrap_database_errors:
        connection.ensure_connection()
        with connection.connection.pipeline():
            yield


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append rows to a table with PostgreSQL's binary `COPY … FROM STDIN`: one round trip
    for any number of rows, the fastest bulk insert there is (D10); binary, because it
    skips formatting and parsing text (five times faster for the outbox's bodies). Returns
    how many."""
    rows = list(rows)
    if not rows:
        return 0
    names = ", ".join(columns)
    types = _column_types(table, names)  # before the COPY: it holds the connection
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper (errors: Django's)
        with raw.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    return len(rows)


_types: dict[tuple[str, str], list[int]] = {}


def _column_types(table: str, names: str) -> list[int]:
    """The columns' type oids, which binary `COPY` needs (asked once per process)."""
    key = (table, names)
    if key not in _types:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM {table} LIMIT 0")  # noqa: S608 - callers' constants
            _types[key] = [column.type_code for column in cursor.description]
    return _types[key]

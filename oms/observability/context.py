"""The correlation id of the work in hand (an HTTP request, a consumed event), held in a
context variable so logs and emitted events carry it without passing it around."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

MAX_LENGTH = 128


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def clean_correlation_id(value: str | None) -> str:
    """A caller-given id if it is printable and short, else a new one (ids end up in logs
    and headers, so they must not carry control characters or megabytes)."""
    if value and len(value) <= MAX_LENGTH and value.isprintable():
        return value
    return new_correlation_id()


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[str]:
    token = _correlation_id.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation_id.reset(token)

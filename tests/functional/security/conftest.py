"""Clean caches around each test, as the accounts tests do (rate counts and cached tokens
must not leak between tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.functional.accounts.conftest import create_instruments, reset_caches


@pytest.fixture(autouse=True)
def clean_caches(redis_client: redis.Redis) -> Iterator[None]:
    reset_caches(redis_client)
    yield
    reset_caches(redis_client)


@pytest.fixture
def instruments(db: None) -> None:
    create_instruments()

"""The retry policy: at most 3 attempts, delays from about 100 ms doubling with jitter and
never above 5 s; other errors and an open breaker are not retried. Sleeps are recorded,
not slept."""

from __future__ import annotations

import pytest

from oms.resilience.breakers import BreakerOpen
from oms.resilience.retry import (
    FIRST_DELAY_SECONDS,
    JITTER_SECONDS,
    MAX_ATTEMPTS,
    MAX_DELAY_SECONDS,
    backoff_delay,
    retrying,
)


class Flaky:
    """Raises the given errors in turn, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def test_a_transient_failure_is_retried_after_about_100_ms() -> None:
    sleeps: list[float] = []
    read = Flaky(ConnectionError("reset"))
    assert retrying(retry_on=(ConnectionError,), sleep=sleeps.append)(read) == "answer"
    assert read.calls == 2
    assert len(sleeps) == 1
    assert FIRST_DELAY_SECONDS <= sleeps[0] <= FIRST_DELAY_SECONDS + JITTER_SECONDS


def test_at_most_three_attempts_then_the_last_error() -> None:
    sleeps: list[float] = []
    read = Flaky(*(ConnectionError(f"down {n}") for n in range(5)))
    with pytest.raises(ConnectionError, match="down 2"):
        retrying(retry_on=(ConnectionError,), sleep=sleeps.append)(read)
    assert read.calls == MAX_ATTEMPTS == 3
    assert len(sleeps) == 2
    assert 0.1 <= sleeps[0] <= 0.15
    assert 0.2 <= sleeps[1] <= 0.25


@pytest.mark.parametrize("error", [ValueError("not transient"), BreakerOpen("redis", 12.0)])
def test_other_errors_and_an_open_breaker_are_not_retried(error: Exception) -> None:
    sleeps: list[float] = []
    call = Flaky(error)
    with pytest.raises(type(error)):
        retrying(retry_on=(ConnectionError, RuntimeError), sleep=sleeps.append)(call)
    assert call.calls == 1
    assert sleeps == []


def test_the_backoff_doubles_with_jitter_and_is_capped_at_5_seconds() -> None:
    for failures in range(1, 7):
        delay = backoff_delay(failures)
        base = FIRST_DELAY_SECONDS * 2 ** (failures - 1)
        assert base <= delay <= base + JITTER_SECONDS
    assert all(backoff_delay(failures) == MAX_DELAY_SECONDS for failures in (7, 10, 100, 10**6))
    assert len({backoff_delay(1) for _ in range(20)}) > 1  # jittered, not lockstep

"""The circuit breaker: it opens at the failure ratio over its window (never before the
minimum number of calls), fails fast while open and says how long, lets one trial through
after the reset timeout, closes on a successful trial and doubles its open time on a
failed one. Time is a fake clock: nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from oms.resilience.breakers import (
    Breaker,
    BreakerConfig,
    BreakerOpen,
    State,
    breaker,
    forget_breakers,
)

CONFIG = BreakerConfig(window=10, minimum_calls=4, failure_ratio=0.5, reset_timeout=30.0,
                       max_reset_timeout=100.0)


class Outage(Exception):
    pass


class NotAnOutage(Exception):
    pass


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def guard(clock: FakeClock, request: pytest.FixtureRequest) -> Breaker:
    return Breaker(f"test:{request.node.name}", CONFIG, clock=clock)


def succeed(guard: Breaker) -> None:
    guard.call(lambda: None, failures=(Outage,))


def fail(guard: Breaker) -> None:
    def broken() -> None:
        raise Outage("down")

    with pytest.raises(Outage):
        guard.call(broken, failures=(Outage,))


def gauge(guard: Breaker) -> float | None:
    return REGISTRY.get_sample_value("oms_circuit_breaker_state", {"breaker": guard.name})


def transitions(guard: Breaker, state: str) -> float:
    return REGISTRY.get_sample_value("oms_circuit_breaker_transitions_total",
                                     {"breaker": guard.name, "state": state}) or 0.0


def open_breaker(guard: Breaker) -> None:
    for _ in range(CONFIG.minimum_calls):
        fail(guard)
    assert guard.state is State.OPEN


def test_failures_below_the_minimum_number_of_calls_keep_it_closed(guard: Breaker) -> None:
    for _ in range(CONFIG.minimum_calls - 1):
        fail(guard)
    assert guard.state is State.CLOSED
    assert gauge(guard) == 0


def test_opens_at_the_failure_ratio_over_the_window(guard: Breaker) -> None:
    # Alternating outcomes: consecutive failures never exceed one, yet half failed.
    succeed(guard)
    fail(guard)
    succeed(guard)
    assert guard.state is State.CLOSED  # 3 calls: under the minimum
    fail(guard)  # 2 of 4 failed: 50 %
    assert guard.state is State.OPEN
    assert gauge(guard) == 2
    assert transitions(guard, "open") == 1


def test_stays_closed_under_the_ratio(guard: Breaker) -> None:
    for _ in range(3):
        succeed(guard)
        succeed(guard)
        fail(guard)  # one in three
    assert guard.state is State.CLOSED


def test_only_the_last_window_of_calls_counts(guard: Breaker) -> None:
    for _ in range(2 * CONFIG.window):
        succeed(guard)
    for _ in range(4):
        fail(guard)
    assert guard.state is State.CLOSED  # 4 of the last 10
    fail(guard)  # 5 of the last 10 (5 of 45 in all): the old successes no longer count
    assert guard.state is State.OPEN


def test_other_exceptions_mean_the_dependency_answered(guard: Breaker) -> None:
    def refuses() -> None:
        raise NotAnOutage("bad request")

    for _ in range(CONFIG.window):
        with pytest.raises(NotAnOutage):
            guard.call(refuses, failures=(Outage,))
    assert guard.state is State.CLOSED


def test_open_fails_fast_with_the_time_until_the_trial(guard: Breaker, clock: FakeClock) -> None:
    open_breaker(guard)
    clock.advance(10)
    called = []
    with pytest.raises(BreakerOpen) as raised:
        guard.call(called.append, 1, failures=(Outage,))
    assert called == []
    assert raised.value.retry_after == pytest.approx(20)
    assert raised.value.breaker == guard.name
    assert guard.retry_after() == pytest.approx(20)


def test_a_successful_trial_after_the_timeout_closes_it(guard: Breaker,
                                                        clock: FakeClock) -> None:
    open_breaker(guard)
    clock.advance(30)
    assert guard.retry_after() == 0
    seen: list[State] = []
    guard.call(lambda: seen.append(guard.state), failures=(Outage,))
    assert seen == [State.HALF_OPEN]  # the trial ran half-open
    assert guard.state is State.CLOSED
    assert gauge(guard) == 0
    assert transitions(guard, "half_open") == 1
    assert transitions(guard, "closed") == 1


def test_a_failed_trial_reopens_it_for_twice_as_long_up_to_the_cap(
    guard: Breaker, clock: FakeClock
) -> None:
    open_breaker(guard)
    for expected in (60, 100, 100):  # 30 doubled, then capped at 100
        clock.advance(guard.reset_timeout)
        fail(guard)
        assert guard.state is State.OPEN
        assert guard.reset_timeout == expected
        assert guard.retry_after() == pytest.approx(expected)
    clock.advance(guard.reset_timeout)
    succeed(guard)
    assert guard.state is State.CLOSED
    assert guard.reset_timeout == CONFIG.reset_timeout  # back to the first timeout


def test_a_closed_breaker_starts_with_an_empty_window(guard: Breaker,
                                                     clock: FakeClock) -> None:
    open_breaker(guard)
    clock.advance(30)
    succeed(guard)
    for _ in range(CONFIG.minimum_calls - 2):
        fail(guard)
    assert guard.state is State.CLOSED  # the failures before it opened are forgotten


def test_the_guard_block_form_counts_like_call(guard: Breaker) -> None:
    for _ in range(CONFIG.minimum_calls):
        with pytest.raises(Outage), guard.guard(Outage):
            raise Outage("down")
    with pytest.raises(BreakerOpen), guard.guard(Outage):
        pytest.fail("an open breaker must not run the block")


class KafkaLike(BreakerOpen, Outage):
    pass


def test_the_open_error_can_be_the_dependencys_own_error_type(guard: Breaker) -> None:
    open_breaker(guard)
    with pytest.raises(Outage) as raised:  # existing `except Outage` handlers catch it
        guard.call(lambda: None, failures=(Outage,), open_error=KafkaLike)
    assert isinstance(raised.value, KafkaLike)


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    forget_breakers()
    yield
    forget_breakers()


@pytest.mark.usefixtures("fresh_registry")
def test_settings_are_read_when_a_breaker_is_first_used() -> None:
    assert breaker("redis").config == BreakerConfig()
    with override_settings(RESILIENCE={"WINDOW": 4, "MINIMUM_CALLS": 2, "RESET_TIMEOUT": 1}):
        config = breaker("redis").config
    assert (config.window, config.minimum_calls, config.reset_timeout) == (4, 2, 1.0)
    assert config.failure_ratio == 0.5  # unset keys keep the seed's defaults
    assert breaker("redis").config == BreakerConfig()  # the override ended: forgotten


@pytest.mark.usefixtures("fresh_registry")
def test_a_new_address_starts_a_new_breaker() -> None:
    kafka = breaker("kafka")
    redis = breaker("redis")
    with override_settings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1"):
        assert breaker("kafka") is not kafka
        assert breaker("redis") is redis

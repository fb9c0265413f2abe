"""One circuit breaker per dependency: `kafka` (acknowledged publishes), `redis`, `postgres`
(the consumers' batches) and `feed:<source>` per exchange feed.

The seed asks for breakers that open at a 50 % failure rate, try again after 30 seconds
and recover with exponential backoff. pybreaker supplies the state machine (closed, open,
half-open, its listeners) but trips on consecutive failures only, so each `Breaker` adds:

- a window of the last `WINDOW` outcomes that opens the circuit when failures/calls reach
  `FAILURE_RATIO` once at least `MINIMUM_CALLS` calls are in it (one slow success between
  failures must not keep a dying dependency "closed");
- recovery backoff: a failed half-open trial doubles the open time up to
  `MAX_RESET_TIMEOUT`; closing restores `RESET_TIMEOUT`;
- an injectable clock, so tests move time instead of sleeping 30 seconds.

pybreaker's own `call()` holds the breaker's lock for the whole guarded call, which would
queue every concurrent publish behind one that is waiting out a dead broker. `guard()`
therefore decides admission and records the outcome under a short lock of its own and
runs the operation outside it; outcomes are fed to pybreaker's state machine, so its
states, transitions and listeners stay the source of truth.

Settings (`RESILIENCE` in Django settings) are read when a breaker is first used; a
breaker is forgotten when the address of its dependency or `RESILIENCE` changes (tests
use `override_settings`), since its history says nothing about the new target."""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, TypeVar

import pybreaker
from django.conf import settings
from django.core.signals import setting_changed

from oms.observability.metrics import BREAKER_STATE, BREAKER_TRANSITIONS

KAFKA = "kafka"
REDIS = "redis"
POSTGRES = "postgres"

T = TypeVar("T")
Clock = Callable[[], datetime]


def feed_breaker_name(source: str) -> str:
    return f"feed:{source}"


class State(IntEnum):
    """The value of `oms_circuit_breaker_state`."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


_STATES = {pybreaker.STATE_CLOSED: State.CLOSED, pybreaker.STATE_HALF_OPEN: State.HALF_OPEN,
           pybreaker.STATE_OPEN: State.OPEN}


class BreakerOpen(RuntimeError):
    """The breaker is open: the call was not attempted. `retry_after` is the number of
    seconds until the breaker lets a trial call through."""

    def __init__(self, breaker: str, retry_after: float) -> None:
        super().__init__(f"circuit breaker {breaker} is open; next trial in {retry_after:.1f} s")
        self.breaker = breaker
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    window: int = 20
    minimum_calls: int = 5
    failure_ratio: float = 0.5
    reset_timeout: float = 30.0
    max_reset_timeout: float = 240.0

    @classmethod
    def from_settings(cls) -> BreakerConfig:
        given: dict[str, Any] = getattr(settings, "RESILIENCE", {})
        defaults = cls()
        return cls(
            window=int(given.get("WINDOW", defaults.window)),
            minimum_calls=int(given.get("MINIMUM_CALLS", defaults.minimum_calls)),
            failure_ratio=float(given.get("FAILURE_RATIO", defaults.failure_ratio)),
            reset_timeout=float(given.get("RESET_TIMEOUT", defaults.reset_timeout)),
            max_reset_timeout=float(given.get("MAX_RESET_TIMEOUT",
                                              defaults.max_reset_timeout)),
        )


class _Failed(Exception):
    """Stands for a failed call when its outcome is replayed into pybreaker (so pybreaker
    never re-raises, and never extends the traceback of, the caller's exception)."""


def _succeed() -> None:
    return None


def _fail() -> None:
    raise _Failed


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Breaker(pybreaker.CircuitBreakerListener):
    def __init__(self, name: str, config: BreakerConfig, *, clock: Clock = _utc_now) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: deque[bool] = deque(maxlen=config.window)  # True: failed
        self._opened_at: datetime | None = None
        # fail_max is out of reach: the window, not a consecutive count, trips the circuit.
        self.circuit = pybreaker.CircuitBreaker(
            fail_max=2**31, reset_timeout=config.reset_timeout, name=name,
            listeners=[self], throw_new_error_on_trip=False,
        )
        BREAKER_STATE.labels(name).set(State.CLOSED)

    # ------------------------------------------------------------------------ reading

    @property
    def state(self) -> State:
        return _STATES[self.circuit.current_state]

    @property
    def reset_timeout(self) -> float:
        """How long the circuit stays open this time (doubles after each failed trial)."""
        return float(self.circuit.reset_timeout)

    def retry_after(self) -> float:
        """Seconds until a trial call is let through (0 unless the circuit is open)."""
        if self.state is not State.OPEN or self._opened_at is None:
            return 0.0
        reopens = self._opened_at + timedelta(seconds=self.reset_timeout)
        return max(0.0, (reopens - self._clock()).total_seconds())

    # ------------------------------------------------------------------------ calling

    @contextlib.contextmanager
    def guard(self, *failures: type[BaseException],
              open_error: type[BreakerOpen] = BreakerOpen) -> Iterator[None]:
        """Run the block if the breaker admits it, else raise `open_error` at once.
        Exceptions of the `failures` types count against the dependency; any other
        exception means the dependency answered, so it counts as a success."""
        self._admit(open_error)
        try:
            yield
        except failures:
            self._settle(failed=True)
            raise
        except Exception:
            self._settle(failed=False)
            raise
        self._settle(failed=False)

    def call(self, operation: Callable[..., T], *args: Any,
             failures: tuple[type[BaseException], ...],
             open_error: type[BreakerOpen] = BreakerOpen, **kwargs: Any) -> T:
        with self.guard(*failures, open_error=open_error):
            return operation(*args, **kwargs)

    def end_open_time(self) -> None:
        """The dependency answered a probe made outside the breaker (`BreakerProbe`): let
        the next call through as the trial now rather than at the end of the open time.
        The trial itself closes the circuit (or reopens it), so the caller that makes it
        also renews what the outage broke (a dropped database connection)."""
        with self._lock:
            if self.state is State.OPEN:
                self._opened_at = self._clock() - timedelta(seconds=self.reset_timeout)

    def _admit(self, open_error: type[BreakerOpen]) -> None:
        with self._lock:
            if self.state is not State.OPEN:
                return
            remaining = self.retry_after()
            if remaining > 0:
                raise open_error(self.name, remaining)
            self.circuit.half_open()

    def _settle(self, *, failed: bool) -> None:
        with self._lock:
            if self.state is State.OPEN:
                return  # admitted before another call opened the circuit: nothing new
            with contextlib.suppress(_Failed):
                self.circuit.call(_fail if failed else _succeed)

    # ----------------------------------------------------------- pybreaker's listener

    def success(self, cb: pybreaker.CircuitBreaker) -> None:
        self._outcomes.append(False)

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        self._outcomes.append(True)
        calls = len(self._outcomes)
        if (cb.current_state == pybreaker.STATE_CLOSED
                and calls >= self.config.minimum_calls
                and sum(self._outcomes) / calls >= self.config.failure_ratio):
            cb.open()
        # A failed half-open trial is reopened by pybreaker itself.

    def state_change(self, cb: pybreaker.CircuitBreaker,
                     old_state: pybreaker.CircuitBreakerState | None,
                     new_state: pybreaker.CircuitBreakerState) -> None:
        old = old_state.name if old_state is not None else None
        if new_state.name == pybreaker.STATE_OPEN:
            self._opened_at = self._clock()
            if old == pybreaker.STATE_HALF_OPEN:
                cb.reset_timeout = min(cb.reset_timeout * 2, self.config.max_reset_timeout)
        elif new_state.name == pybreaker.STATE_CLOSED:
            cb.reset_timeout = self.config.reset_timeout
        if new_state.name != pybreaker.STATE_HALF_OPEN:
            self._outcomes.clear()  # a new period starts with an empty window
        state = _STATES[new_state.name]
        BREAKER_STATE.labels(self.name).set(state)
        BREAKER_TRANSITIONS.labels(self.name, state.name.lower()).inc()


# ---------------------------------------------------------------------------- registry

_registry_lock = threading.Lock()
_breakers: dict[str, Breaker] = {}

# A breaker's history belongs to the address it guarded.
_GUARDED_BY_SETTING = {
    "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
    "KAFKA_CLIENT_CONFIG": KAFKA,
    "REDIS_URL": REDIS,
    "DATABASES": POSTGRES,
}


def breaker(name: str) -> Breaker:
    """The process's breaker of this dependency (made on first use)."""
    with _registry_lock:
        found = _breakers.get(name)
        if found is None:
            found = _breakers[name] = Breaker(name, BreakerConfig.from_settings())
        return found


def breakers() -> list[Breaker]:
    """Every breaker this process has used, by name."""
    with _registry_lock:
        return [_breakers[name] for name in sorted(_breakers)]


def forget_breakers(*names: str) -> None:
    """Drop breakers (all when no name is given); the next use starts closed."""
    with _registry_lock:
        for name in names or list(_breakers):
            if _breakers.pop(name, None) is not None:
                BREAKER_STATE.labels(name).set(State.CLOSED)


def _on_setting_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting == "RESILIENCE":
        forget_breakers()
    elif setting in _GUARDED_BY_SETTING:
        forget_breakers(_GUARDED_BY_SETTING[setting])


setting_changed.connect(_on_setting_changed)

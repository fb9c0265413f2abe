"""The seed's retry policy: at most 3 attempts, exponential backoff from 100 ms, at most
5 s between attempts, with jitter so that many clients failing together do not retry in
lockstep.

Use it ONLY for operations that are safe to repeat: reads, idempotent writes, and the
idempotent producer re-sending the same event (same `event_id`, which consumers
deduplicate). A failure does not say whether the operation took effect (the reply may
be what got lost), so repeating a non-idempotent step (an INCR of a rate-limit counter,
a new order id, a money movement) could apply it twice. An open circuit breaker is never
retried: it means "do not call for a while", and retrying would only add latency."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
)

from oms.resilience.breakers import BreakerOpen

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 5.0
JITTER_SECONDS = 0.05



def backoff_delay(failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row before trying again:
    0.1, 0.2, 0.4, ... plus up to 50 ms of jitter, never above 5. Reconnect loops use it
    too, so every backoff in the project has this one shape."""
    exponential = FIRST_DELAY_SECONDS * 2.0 ** min(failures - 1, 16)
    jitter = random.uniform(0, JITTER_SECONDS)  # noqa: S311 - spreading retries, not secrets
    return min(exponential + jitter, MAX_DELAY_SECONDS)


def _wait(state: RetryCallState) -> float:
    return backoff_delay(state.attempt_number)


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    logger.warning("attempt %s of %s failed (%s); retrying", state.attempt_number,
                   getattr(state.fn, "__qualname__", state.fn),
                   outcome.exception() if outcome is not None else None)


def retrying(*, retry_on: tuple[type[BaseException], ...],
             sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """The policy for one call site: `retrying(retry_on=(ConnectionError,))(read, key)`.
    Other exceptions, and `BreakerOpen`, propagate at once; after the last attempt the
    last exception propagates as it is. Tests pass `sleep` to see the delays."""
    return Retrying(
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=_wait,
        retry=retry_if_exception_type(retry_on) & retry_if_not_exception_type(BreakerOpen),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )

"""A dependency blip never ends a role (issue #14, item 13): while the venue's Redis is
down the market maker keeps running and answers `/ready` with 503, and within seconds of
Redis answering again it is ready and quoting again; a role whose main loop fails on a
dependency (the market maker starting while PostgreSQL is down) runs it again, never exits.
(The market maker used to exit on the first Redis error, and honcho then stopped every
role.)"""

from __future__ import annotations

import time

import pytest
import requests

from tests.faults.conftest import Venue, wait_until

pytestmark = pytest.mark.faults

# Readiness must come back within this long of the dependency answering (issue #14).
BACK_WITHIN_SECONDS = 5.0


def ready_status(url: str) -> int:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return 0


def test_market_maker_rides_out_a_redis_outage(venue: Venue) -> None:
    web = venue.start_web()
    venue.env["OMS_API_URL"] = web.url
    maker = venue.start("run_market_maker")
    ready = venue.ready_url(maker)
    wait_until(lambda: ready_status(ready) == 200, seconds=60, what="the market maker ready")

    with venue.outage("redis"):
        wait_until(lambda: ready_status(ready) == 503, seconds=15,
                   what="the market maker to report itself not ready")
        time.sleep(6)  # several quoting steps, each meeting the outage
        assert maker.poll() is None, venue.log_of(maker)[-2000:]

    back = time.monotonic()
    wait_until(lambda: ready_status(ready) == 200, seconds=30, every=0.2,
               what="the market maker ready again")
    assert time.monotonic() - back < BACK_WITHIN_SECONDS
    assert maker.poll() is None
    assert "quoting paused" in venue.log_of(maker)


def test_a_role_whose_loop_fails_on_a_dependency_runs_it_again(venue: Venue) -> None:
    """The market maker's start reads PostgreSQL (its account): with PostgreSQL down it
    neither exits nor stalls, says why it is not ready, and starts once PostgreSQL is back."""
    web = venue.start_web()
    venue.env["OMS_API_URL"] = web.url
    with venue.outage("postgres"):
        maker = venue.start("run_market_maker")
        ready = venue.ready_url(maker)
        wait_until(lambda: "a dependency failed" in venue.log_of(maker), seconds=30,
                   what="the role to meet the outage")
        wait_until(lambda: ready_status(ready) == 503, seconds=10,
                   what="the role to report itself not ready")
        time.sleep(5)
        assert maker.poll() is None, venue.log_of(maker)[-2000:]

    back = time.monotonic()
    wait_until(lambda: ready_status(ready) == 200, seconds=30, every=0.2,
               what="the role ready once PostgreSQL answers")
    assert time.monotonic() - back < BACK_WITHIN_SECONDS + 2  # PostgreSQL's own start
    assert "market-maker quoting" in venue.log_of(maker)

"""A dependency blip never ends a role (issue #14, item 13): while the venue's Redis is
down the market maker keeps running and answers `/ready` with 503, and within seconds of
Redis answering again it is ready and quoting again. (It used to exit on the first Redis
error, and honcho then stopped every role.)"""

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

"""ccxt's own unified-API tests against the ccxt class of this repository
(`clients/ccxt`), on a venue started here: PostgreSQL, Redis and the broker from the
launcher, then the web role, the relay, the processor, market data and the market maker
as real processes, so books have depth and orders fill. The tests run in their own
virtualenv (`make ccxt-venv`, ccxt pinned in `clients/ccxt/requirements.lock`, since ccxt
pins its own dependencies exactly), made here if it is missing.

What runs, and why a declared method with no test of ccxt's own still counts, is in
`clients/ccxt/tests/run_unified_tests.py`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from oms.launcher import ServiceStack
from tests.faults.conftest import Venue, WebRole, start_order_roles, wait_until

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
CCXT_PYTHON = ROOT / ".ccxt-venv" / "bin" / "python"
SYMBOL = "BTC-USDT"


@pytest.fixture(scope="module")
def ccxt_python() -> Path:
    """The ccxt virtualenv, made (pinned) if missing or stale."""
    result = subprocess.run(["make", "-s", "ccxt-venv"], cwd=ROOT, capture_output=True,  # noqa: S607 - the project's own Makefile
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return CCXT_PYTHON


@pytest.fixture
def venue_with_liquidity(tmp_path: Path) -> Iterator[tuple[Venue, WebRole]]:
    stack = ServiceStack(tmp_path / "services", durable=False, environ={})
    env = stack.start()
    try:
        venue = Venue(stack, env, tmp_path)
        for args in (["migrate", "-v0"], ["seed_demo"],
                     ["set_limits", "max_orders_per_second=none", "max_orders_per_minute=none"]):
            result = venue.manage(*args)
            assert result.returncode == 0, result.stderr
        # One step of the simulated feed, then a still reference price: the market maker
        # then never replaces its whole ladder, which leaves one side of the book empty
        # for a moment (ccxt's createOrder test reads the best bid and ask once).
        venue.env["MARKETDATA_SIMULATOR_STEP_SECONDS"] = "3600"
        web = venue.start_web()
        venue.env["OMS_API_URL"] = web.url
        start_order_roles(venue)
        venue.start("run_consumer", "marketdata")
        venue.start("run_market_maker")

        def quoted() -> bool:
            with contextlib.suppress(requests.RequestException, ValueError):
                book = requests.get(f"{web.url}/api/market-data/orderbook/{SYMBOL}",
                                    timeout=5).json()
                return len(book["bids"]) >= 3 and len(book["asks"]) >= 3
            return False

        wait_until(quoted, seconds=120, what="the market maker's quotes in the book")
        yield venue, web
        venue.stop_roles()
    finally:
        stack.stop()


def test_ccxt_unified_tests_pass_for_every_declared_method(
        ccxt_python: Path, venue_with_liquidity: tuple[Venue, WebRole]) -> None:
    venue, web = venue_with_liquidity
    drift = subprocess.run([str(ccxt_python), "-m", "oms_ccxt.transpile", "--check"],
                           cwd=ROOT / "clients/ccxt", capture_output=True, text=True,
                           timeout=60, check=False)
    assert drift.returncode == 0, "async_support/oms.py is not generated from sync.py: run " \
                                  "python -m oms_ccxt.transpile in clients/ccxt"
    funded = venue.manage("create_trader", "ccxt", "--fund", "BTC=10", "--fund",
                          "USDT=1000000")
    assert funded.returncode == 0, funded.stderr
    token = funded.stdout.strip().splitlines()[-1]
    key = requests.post(f"{web.url}/api/api-keys", json={"name": "ccxt",
                                                         "scopes": ["read", "trade"]},
                        headers={"Authorization": f"Token {token}"}, timeout=10)
    assert key.status_code == 201, key.text
    result = subprocess.run(
        [str(ccxt_python), str(ROOT / "clients/ccxt/tests/run_unified_tests.py"),
         "--url", web.url, "--token", token, "--api-key", key.json()["key_id"],
         "--secret", key.json()["secret"], "--symbol", "BTC/USDT"],
        capture_output=True, text=True, timeout=600, check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    sys.stdout.write(result.stdout[-20000:])
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert " 0 failed" in result.stdout

"""`manage.py run_demo_taker`: the `demo-taker` role of `make up`, a demo bot that crosses
the spread now and then through the public API (`apps/marketdata/demo_taker.py`), so the
demo venue trades, its candles form and its tape moves from the first minute.

Its account (`settings.MARKETDATA_DEMO_TAKER["username"]`) is created and funded once on
start. A failure of the web role it calls, or of Redis or PostgreSQL, pauses it until the
next step (it leaves nothing working: every order is immediate-or-cancel). Off in
production (`MARKETDATA_DEMO_TAKER_ENABLED = False`): the command then logs that and exits
0, so the same process list runs everywhere."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

from apps.marketdata.demo_taker import DemoTaker, taking_params
from apps.marketdata.market_maker import ApiError, OmsClient, ensure_account
from oms.observability.health import declare_not_ready, declare_ready
from oms.observability.probe_server import Heartbeat
from oms.resilience.dependencies import DEPENDENCY_ERRORS
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

TAKING_PAUSES: tuple[type[Exception], ...] = (ApiError, *DEPENDENCY_ERRORS)


class Command(RoleCommand):
    help = "Run the demo taker (crosses the spread through the public API)."
    role = "demo-taker"
    dependencies = ("postgres", "redis")  # Kafka only through the web role it calls

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MARKETDATA_DEMO_TAKER_ENABLED:
            logger.info("demo-taker disabled (MARKETDATA_DEMO_TAKER_ENABLED is off); "
                        "nothing to do")
            return
        super().handle(*args, **options)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        config = settings.MARKETDATA_DEMO_TAKER
        token = ensure_account(username=config["username"], funds=config["funds"],
                               funding_reference=config["funding_reference"])
        taker = DemoTaker(OmsClient(settings.MARKETDATA_MARKET_MAKER_API_URL, token),
                          symbols=config["symbols"], params=taking_params(config))
        logger.info("demo-taker trading %s as %s through %s", ", ".join(taker.symbols),
                    config["username"], settings.MARKETDATA_MARKET_MAKER_API_URL)
        while not stop.is_set():
            heartbeat.beat()
            try:
                taker.step()
            except TAKING_PAUSES as exc:
                logger.warning("demo-taker: paused: %s: %s", type(exc).__name__, exc)
                declare_not_ready("taking", f"{type(exc).__name__}: {exc}"[:300])
            else:
                declare_ready("taking")
            stop.wait(float(config["interval_seconds"]))

"""`manage.py run_market_maker`: the `market-maker` role of `make up`, a demo bot that
quotes a few levels on both sides of each symbol's reference price through the public API
(`apps/marketdata/market_maker.py`), so the demo venue has a live book to trade against.

Its account (`settings.MARKETDATA_MARKET_MAKER["username"]`) is created and funded once on
start. A failure of the web role it calls, or of Redis or PostgreSQL that it reads the
reference price from, pauses quoting until the next step; its quotes stay working. Off in
production (`MARKETDATA_MARKET_MAKER_ENABLED = False`): the command then logs
that and exits 0, so the same process list runs everywhere."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

from apps.marketdata.market_maker import (
    ApiError,
    MarketMaker,
    OmsClient,
    ensure_account,
    quoting_params,
)
from oms.observability.health import declare_not_ready, declare_ready
from oms.observability.probe_server import Heartbeat
from oms.resilience.dependencies import DEPENDENCY_ERRORS
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

# What pauses quoting until the next step: the web role it calls, or a store it reads.
QUOTING_PAUSES: tuple[type[Exception], ...] = (ApiError, *DEPENDENCY_ERRORS)


class Command(RoleCommand):
    help = "Run the demo market maker (quotes through the public API)."
    role = "market-maker"
    dependencies = ("postgres", "redis")  # Kafka only through the web role it calls

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MARKETDATA_MARKET_MAKER_ENABLED:
            logger.info("market-maker disabled (MARKETDATA_MARKET_MAKER_ENABLED is off); "
                        "nothing to do")
            return
        super().handle(*args, **options)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        config = settings.MARKETDATA_MARKET_MAKER
        token = ensure_account(username=config["username"], funds=config["funds"],
                               funding_reference=config["funding_reference"])
        maker = MarketMaker(OmsClient(settings.MARKETDATA_MARKET_MAKER_API_URL, token),
                            symbols=config["symbols"], params=quoting_params(config))
        logger.info("market-maker quoting %s as %s through %s", ", ".join(maker.symbols),
                    config["username"], settings.MARKETDATA_MARKET_MAKER_API_URL)
        try:
            while not stop.is_set():
                heartbeat.beat()
                try:
                    maker.step()
                except QUOTING_PAUSES as exc:
                    logger.warning("market-maker: quoting paused: %s: %s",
                                   type(exc).__name__, exc)
                    declare_not_ready("quoting", f"{type(exc).__name__}: {exc}"[:300])
                else:
                    declare_ready("quoting")
                stop.wait(float(config["interval_seconds"]))
        finally:
            try:
                maker.withdraw()
            except ApiError as exc:
                logger.warning("market-maker: quotes left working: %s", exc)

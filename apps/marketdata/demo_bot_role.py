"""The role of a demo bot of `make up` (`run_market_maker`, `run_demo_taker`): a trader
that works through the public API like any client, one step every `interval_seconds`.

Its account (`config["username"]`) is created and funded once on start. A failure of the
web role it calls, or of Redis or PostgreSQL that it reads, pauses it until the next step
(and marks it not ready). Off in production (its `*_ENABLED` setting): the command then
logs that and exits 0, so the same process list runs everywhere."""

from __future__ import annotations

import logging
import threading
from typing import Any, Generic, Protocol, TypeVar

from django.conf import settings

from apps.marketdata.market_maker import ApiError, OmsClient, ensure_account
from oms.observability.health import declare_not_ready, declare_ready
from oms.observability.probe_server import Heartbeat
from oms.resilience.dependencies import DEPENDENCY_ERRORS
from oms.roles import RoleCommand

logger = logging.getLogger(__name__)

# What pauses a bot until its next step: the web role it calls, or a store it reads.
PAUSES: tuple[type[Exception], ...] = (ApiError, *DEPENDENCY_ERRORS)


class DemoBot(Protocol):
    symbols: list[str]

    def step(self) -> object: ...


Bot = TypeVar("Bot", bound=DemoBot)


class DemoBotCommand(RoleCommand, Generic[Bot]):
    """A bot's command: `enabled_setting` and `config_setting` name its settings,
    `activity` what it does (in logs and its readiness check); `make_bot` builds it."""

    dependencies = ("postgres", "redis")  # Kafka only through the web role it calls
    enabled_setting: str
    config_setting: str
    activity: str

    def make_bot(self, client: OmsClient, config: dict[str, Any]) -> Bot:
        raise NotImplementedError

    def finish(self, bot: Bot) -> None:
        """After the last step (the role stops)."""

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, self.enabled_setting):
            logger.info("%s disabled (%s is off); nothing to do", self.role,
                        self.enabled_setting)
            return
        super().handle(*args, **options)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        config = getattr(settings, self.config_setting)
        token = ensure_account(username=config["username"], funds=config["funds"],
                               funding_reference=config["funding_reference"])
        bot = self.make_bot(OmsClient(settings.MARKETDATA_MARKET_MAKER_API_URL, token), config)
        logger.info("%s %s %s as %s through %s", self.role, self.activity,
                    ", ".join(bot.symbols), config["username"],
                    settings.MARKETDATA_MARKET_MAKER_API_URL)
        try:
            while not stop.is_set():
                heartbeat.beat()
                try:
                    bot.step()
                except PAUSES as exc:
                    logger.warning("%s: %s paused: %s: %s", self.role, self.activity,
                                   type(exc).__name__, exc)
                    declare_not_ready(self.activity, f"{type(exc).__name__}: {exc}"[:300])
                else:
                    declare_ready(self.activity)
                stop.wait(float(config["interval_seconds"]))
        finally:
            self.finish(bot)

"""`manage.py run_market_maker`: the `market-maker` role of `make up`, a demo bot that
quotes a few levels on both sides of each symbol's reference price through the public API
(`apps/marketdata/market_maker.py`), so the demo venue has a live book to trade against.
Its quotes stay working while it is paused, and are withdrawn when it stops. The role's
loop, pauses and production switch (`MARKETDATA_MARKET_MAKER_ENABLED`) are
`apps.marketdata.demo_bot_role`'s."""

from __future__ import annotations

import logging
from typing import Any

from apps.marketdata.demo_bot_role import DemoBotCommand
from apps.marketdata.market_maker import ApiError, MarketMaker, OmsClient, quoting_params

logger = logging.getLogger(__name__)


class Command(DemoBotCommand[MarketMaker]):
    help = "Run the demo market maker (quotes through the public API)."
    role = "market-maker"
    enabled_setting = "MARKETDATA_MARKET_MAKER_ENABLED"
    config_setting = "MARKETDATA_MARKET_MAKER"
    activity = "quoting"

    def make_bot(self, client: OmsClient, config: dict[str, Any]) -> MarketMaker:
        return MarketMaker(client, symbols=config["symbols"], params=quoting_params(config))

    def finish(self, bot: MarketMaker) -> None:
        try:
            bot.withdraw()
        except ApiError as exc:
            logger.warning("market-maker: quotes left working: %s", exc)

"""`manage.py run_demo_taker`: the `demo-taker` role of `make up`, a demo bot that crosses
the spread now and then through the public API (`apps/marketdata/demo_taker.py`), so the
demo venue trades, its candles form and its tape moves from the first minute. It leaves
nothing working: every order is immediate-or-cancel. The role's loop, pauses and
production switch (`MARKETDATA_DEMO_TAKER_ENABLED`) are `apps.marketdata.demo_bot_role`'s."""

from __future__ import annotations

from typing import Any

from apps.marketdata.demo_bot_role import DemoBotCommand
from apps.marketdata.demo_taker import DemoTaker, taking_params
from apps.marketdata.market_maker import OmsClient


class Command(DemoBotCommand[DemoTaker]):
    help = "Run the demo taker (crosses the spread through the public API)."
    role = "demo-taker"
    enabled_setting = "MARKETDATA_DEMO_TAKER_ENABLED"
    config_setting = "MARKETDATA_DEMO_TAKER"
    activity = "taking"

    def make_bot(self, client: OmsClient, config: dict[str, Any]) -> DemoTaker:
        return DemoTaker(client, symbols=config["symbols"], params=taking_params(config))

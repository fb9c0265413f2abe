"""`manage.py simulate_orders --users alice,bob [--orders N] [--symbol S] [--seed N]
[--rate R]`: publish a seeded stream of limit orders around a mid price through the real
order entry service (validation, Redis, Kafka; no HTTP), about a third of them crossing.
For demos, fault tests and the end-to-end benchmark."""

from __future__ import annotations

import argparse
import random
import time
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.orders import selectors, services
from apps.orders.domain.rules import OrderTerms
from oms.terms import OrderType, Side, TimeInForce


class Command(BaseCommand):
    help = "Publish a seeded stream of limit orders through order entry."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--users", required=True, help="comma-separated usernames")
        parser.add_argument("--orders", type=int, default=1000)
        parser.add_argument("--symbol", default="BTC-USDT")
        parser.add_argument("--mid", default="50000")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--rate", type=float, default=0.0,
                            help="orders per second (0: as fast as possible)")

    def handle(self, *args: Any, **options: Any) -> None:
        names = [name.strip() for name in options["users"].split(",") if name.strip()]
        users = list(get_user_model().objects.filter(username__in=names).values_list("pk",
                                                                                     flat=True))
        if len(users) != len(names):
            raise CommandError(f"unknown users among {names}")
        rules = selectors.instrument_rules(symbol=options["symbol"])
        if rules is None:
            raise CommandError(f"unknown symbol {options['symbol']}")
        rng = random.Random(options["seed"])  # noqa: S311 - a reproducible workload
        mid = Decimal(options["mid"])
        interval = 1 / options["rate"] if options["rate"] else 0.0
        started = time.monotonic()
        for n in range(options["orders"]):
            side = rng.choice([Side.BUY, Side.SELL])
            offset_ticks = rng.randint(-20, 40)  # mostly passive, a third crossing
            ticks = -offset_ticks if side == Side.BUY else offset_ticks
            price = mid + ticks * rules.tick_size * 10
            quantity = rules.lot_size * rng.randint(1000, 5000)
            services.place_order(
                user_id=rng.choice(users), order_id=uuid.uuid4(), client_order_id=None,
                terms=OrderTerms(symbol=rules.symbol, side=side, type=OrderType.LIMIT,
                                 time_in_force=TimeInForce.GTC, quantity=quantity, price=price,
                                 stop_price=None, post_only=False, expires_at=None),
            )
            if interval:
                time.sleep(max(0.0, started + (n + 1) * interval - time.monotonic()))
        self.stdout.write(f"published {options['orders']} orders "
                          f"in {time.monotonic() - started:.1f}s")

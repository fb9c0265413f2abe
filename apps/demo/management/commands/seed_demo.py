"""`manage.py seed_demo`: the demo venue of `make up`. Instruments BTC-USDT, ETH-USDT and
SOL-USDT with 0.1 % maker and taker fees, an operator and two funded traders. Safe to run
again: instruments are upserted and each deposit has a fixed reference."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts import services as accounts
from apps.orders import services as orders
from apps.processing import services as processing
from oms.auth.roles import Role

FEE = Decimal("0.001")
INSTRUMENTS = [
    # symbol, base, quote, tick, lot, min notional, max quantity
    ("BTC-USDT", "BTC", "USDT", "0.01", "0.00001", "10", "1000"),
    ("ETH-USDT", "ETH", "USDT", "0.01", "0.0001", "10", "10000"),
    ("SOL-USDT", "SOL", "USDT", "0.001", "0.01", "5", "1000000"),
]
TRADER_FUNDS = {"USDT": "1000000", "BTC": "10", "ETH": "100", "SOL": "10000"}
USERS = [("ops", Role.OPS, "ops-demo-password"),
         ("alice", Role.TRADER, "alice-demo-password"),
         ("bob", Role.TRADER, "bob-demo-password")]


class Command(BaseCommand):
    help = "Load the demo instruments, an operator and two funded traders (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for symbol, base, quote, tick, lot, notional, max_quantity in INSTRUMENTS:
                orders.upsert_instrument(
                    symbol=symbol, base_asset=base, quote_asset=quote,
                    tick_size=Decimal(tick), lot_size=Decimal(lot), min_quantity=Decimal(lot),
                    max_quantity=Decimal(max_quantity), min_notional=Decimal(notional),
                    maker_fee_rate=FEE, taker_fee_rate=FEE,
                )
            lines = []
            for username, role, password in USERS:
                access = accounts.ensure_user(username=username, role=role, password=password,
                                              password_on_create_only=True)
                if role == Role.TRADER:
                    for asset, amount in TRADER_FUNDS.items():
                        processing.deposit(user_id=access.user_id, asset=asset,
                                           amount=Decimal(amount),
                                           reference=f"seed_demo:{username}:{asset}")
                lines.append(f"  {role.value:6} {username:6} password {password:22} "
                             f"token {access.token}")
        self.stdout.write("Demo venue ready: BTC-USDT, ETH-USDT, SOL-USDT.")
        self.stdout.write("Log in at http://127.0.0.1:8000/admin/ or /api/ with:")
        self.stdout.write("\n".join(lines))

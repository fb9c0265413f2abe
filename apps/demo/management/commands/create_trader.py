"""`manage.py create_trader <username> [--fund ASSET=AMOUNT ...] [--role trader|ops]
[--password P]`: create or update a user, fund it through the ledger, and print its API
token alone on the last line (for `Authorization: Token <key>`)."""

from __future__ import annotations

import argparse
import secrets
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts import services as accounts
from apps.processing import selectors, services
from oms.auth.roles import Role
from oms.money import InvalidAmount, format_amount, parse_amount


def funding(value: str) -> tuple[str, Decimal]:
    asset, separator, amount_text = value.partition("=")
    if not separator or not asset.strip():
        raise argparse.ArgumentTypeError(f"expected ASSET=AMOUNT, got {value!r}")
    try:
        amount = parse_amount(amount_text)
    except InvalidAmount as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if amount <= 0:
        raise argparse.ArgumentTypeError(f"the amount of {asset} must be positive")
    return asset.strip().upper(), amount


class Command(BaseCommand):
    help = "Create or update a trader (or operator), fund it, and print its API token last."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--fund", type=funding, action="append", default=[],
                            metavar="ASSET=AMOUNT", help="deposit this amount (repeatable)")
        parser.add_argument("--role", choices=[role.value for role in Role],
                            default=Role.TRADER.value)
        parser.add_argument("--password", help="set a password for logging in to the UI")
        parser.add_argument("--funding-reference",
                            help="makes funding idempotent: the same reference deposits once")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if not username.strip():
            raise CommandError("the username must not be empty")
        role = Role(options["role"])
        with transaction.atomic():
            access = accounts.ensure_user(username=username, role=role,
                                          password=options["password"])
            for index, (asset, amount) in enumerate(options["fund"]):
                reference = (f"{options['funding_reference']}:{index}"
                             if options["funding_reference"]
                             else f"create_trader:{access.user_id}:{secrets.token_hex(20)}")
                services.deposit(user_id=access.user_id, asset=asset, amount=amount,
                                 reference=reference)
        self.stdout.write(f"{'created' if access.created else 'updated'} {role.value} "
                          f"{username}")
        for balance in selectors.balances_of(user_id=access.user_id):
            self.stdout.write(f"  {balance.asset}: available {format_amount(balance.available)}, "
                              f"reserved {format_amount(balance.reserved)}")
        self.stdout.write(access.token)

"""`manage.py create_trader <username> [--fund ASSET=AMOUNT ...] [--role trader|ops]
[--password P]`: create or update a user, fund it through the ledger, and print its API
token alone on the last line (for `Authorization: Token <key>`)."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from apps.processing import selectors, services
from oms.auth.roles import Role, assign_role
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
            user, created = get_user_model().objects.get_or_create(username=username)
            if options["password"]:
                user.set_password(options["password"])
            elif created:
                user.set_unusable_password()
            user.is_staff = user.is_superuser = role in (Role.OPS, Role.ADMIN)
            user.save()
            assign_role(user, role)
            token, _ = Token.objects.get_or_create(user=user)
            for index, (asset, amount) in enumerate(options["fund"]):
                reference = (f"{options['funding_reference']}:{index}"
                             if options["funding_reference"]
                             else f"create_trader:{user.pk}:{Token.generate_key()}")
                services.deposit(user_id=user.pk, asset=asset, amount=amount,
                                 reference=reference)
        self.stdout.write(f"{'created' if created else 'updated'} {role.value} {username}")
        for balance in selectors.balances_of(user_id=user.pk):
            self.stdout.write(f"  {balance.asset}: available {format_amount(balance.available)}, "
                              f"reserved {format_amount(balance.reserved)}")
        self.stdout.write(token.key)

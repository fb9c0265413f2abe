"""`manage.py set_limits [--user USERNAME] [--symbol SYMBOL] NAME=VALUE ...`: change the
limits of one scope from the command line (global without --user and --symbol), as the
admin and `PUT /api/risk/limits` do, audited and emitted the same way. `NAME=none`
removes a limit at that scope. Scripts use it: load and fault runs lift the velocity
limits a fresh install has, since they measure the processor, not the limit."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import models

from apps.risk import services
from apps.risk.models import RiskLimit
from apps.risk.selectors import LIMIT_FIELDS
from oms.money import InvalidAmount, format_amount, parse_amount


def limit_value(text: str) -> tuple[str, Decimal | int | None]:
    name, separator, value = text.partition("=")
    if not separator or name not in LIMIT_FIELDS:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME one of {LIMIT_FIELDS}")
    if value.lower() == "none":
        return name, None
    try:
        amount = parse_amount(value)
    except InvalidAmount as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if amount < 0:
        raise argparse.ArgumentTypeError(f"{name} cannot be negative")
    counted = isinstance(RiskLimit._meta.get_field(name), models.IntegerField)
    return name, int(amount) if counted else amount


class Command(BaseCommand):
    help = "Change the limits of one scope (audited), NAME=VALUE or NAME=none."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("limits", nargs="+", type=limit_value, metavar="NAME=VALUE")
        parser.add_argument("--user", default=None, help="username (default: every account)")
        parser.add_argument("--symbol", default="", help="instrument (default: every one)")

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = None
        if options["user"] is not None:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']}")
            user_id = user.pk
        row = services.set_limits(actor_id=None, user_id=user_id, symbol=options["symbol"],
                                  values=dict(options["limits"]))
        values = {name: getattr(row, name) for name in LIMIT_FIELDS}
        self.stdout.write(f"{row}: " + ", ".join(
            f"{name}={format_amount(value) if isinstance(value, Decimal) else value}"
            for name, value in values.items() if value is not None))

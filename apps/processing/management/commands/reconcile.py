"""`manage.py reconcile [--check NAME ...]`: check the ledger, books, read models and the
`executions` topic against each other; store each difference as a `Break` (and close the
open breaks of the checks run that healed); print a report; exit 1 on any difference."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.processing.breaks import record_breaks
from apps.processing.reconciliation import CHECKS, count_unpublished, reconcile


class Command(BaseCommand):
    help = "Reconcile ledger, books, read models and executions; non-zero exit on a difference."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--check", action="append", choices=sorted(CHECKS),
                            help="run only these checks (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        results = reconcile(options["check"])
        recorded = record_breaks(results, now=datetime.now(UTC))
        pending = count_unpublished()
        if pending:
            self.stdout.write(f"note: {pending} outbox events are not published yet")
        failed = 0
        for name, findings in results.items():
            self.stdout.write(f"{name:13} {'ok' if not findings else f'{len(findings)} FAILED'}")
            for finding in findings:
                self.stdout.write(f"    {finding.detail}")
            failed += len(findings)
        self.stdout.write(f"breaks: {recorded.opened} opened, {recorded.seen_again} still "
                          f"open, {recorded.healed} healed")
        if failed:
            raise CommandError(f"reconcile: {failed} differences")
        self.stdout.write("reconcile: clean")

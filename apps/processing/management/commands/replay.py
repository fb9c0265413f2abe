"""`manage.py replay [--keep] [--risk-config FILE [--report-json PATH]]`: rebuild orders,
fills, books, ledger and positions from the `orders` topic (from its beginning) into a
new, empty database, compare with the live state, print the differences and exit 1 if
there are any. The replay database is dropped afterwards unless `--keep` is given.

With `--risk-config FILE` it is a what-if instead: the limits proposed in FILE (JSON or
TOML, `apps.risk.domain.limit_proposal`) are laid over the live ones in the replay
database, and the report names every order the proposal would have rejected (and every
one it would have let through) beside what the live run decided
(`apps.processing.risk_what_if`); `--report-json PATH` writes it as JSON too. Nothing live
changes: the file is checked before anything runs, the replay has a database of its own
and its own prefix for the velocity counters in Redis. Exit 0 whatever it finds.

Run it while no processor writes (or accept differences from requests that arrive during
the replay). The topic must still hold every request: retention (7 days) bounds how far
back a replay can go."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.processing.processor import tune_for_pipelining
from apps.processing.replay import differences, replay_topic
from apps.processing.risk_what_if import compare_decisions
from apps.risk import selectors as risk_selectors
from apps.risk.services import LimitProposalError


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


class Command(BaseCommand):
    help = ("Replay the orders topic into an empty database and compare with the live state "
            "(with --risk-config: which orders proposed limits would have rejected).")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--keep", action="store_true", help="keep the replay database")
        parser.add_argument("--risk-config", metavar="FILE", type=Path,
                            help="proposed limits (.json or .toml): report which orders "
                                 "they would have rejected")
        parser.add_argument("--report-json", metavar="PATH", type=Path,
                            help="with --risk-config: also write the report here as JSON")
        parser.add_argument("--into-current-database", metavar="SOURCE_URL",
                            help=argparse.SUPPRESS)  # the inner step, run by this command

    def handle(self, *args: Any, **options: Any) -> None:
        risk_config: Path | None = options["risk_config"]
        if options["into_current_database"]:
            tune_for_pipelining()
            started = time.perf_counter()
            replayed = replay_topic(options["into_current_database"],
                                    risk_config=risk_config)
            seconds, applying = time.perf_counter() - started, replayed.applying_seconds
            self.stdout.write(
                f"replayed {replayed.requests} order requests in {seconds:.1f} s "
                f"({replayed.requests / seconds:,.0f}/s; applying them {applying:.1f} s, "
                f"{replayed.requests / applying:,.0f}/s)")
            return
        if options["report_json"] and risk_config is None:
            raise CommandError("--report-json needs --risk-config")
        if risk_config is not None:
            risk_config = risk_config.resolve()
            try:
                risk_selectors.read_limit_proposal(risk_config)
            except LimitProposalError as exc:
                raise CommandError(f"--risk-config {risk_config}: "
                                   + "; ".join(exc.problems)) from None
        live_url = settings.DATABASE_URL
        name = f"{connection.settings_dict['NAME']}_replay_{int(time.time())}"
        replay_url = _with_database(live_url, name)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            # Velocity counters of the replay must not see the live run's counts.
            env = {**os.environ, "DATABASE_URL": replay_url,
                   "RISK_COUNTER_PREFIX": f"{name}:"}
            inner = ["replay", "--into-current-database", live_url]
            if risk_config is not None:
                inner += ["--risk-config", str(risk_config)]
            for step in (["migrate", "-v0"], inner):
                result = subprocess.run([sys.executable, "manage.py", *step], env=env,  # noqa: S603
                                        capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    raise CommandError(f"replay step {step[0]} failed: "
                                       f"{result.stderr.strip().splitlines()[-1:]}")
                if result.stdout.strip():
                    self.stdout.write(result.stdout.strip())
            if risk_config is not None:
                self._report_what_if(live_url, replay_url, options["report_json"])
                return
            found = differences(live_url, replay_url)
        finally:
            if not options["keep"]:
                connection.close()
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for table, count in found.items():
            self.stdout.write(f"{table:10} {'equal' if not count else f'{count} rows differ'}")
        if any(found.values()):
            raise CommandError("replay: the replayed state differs from the live state")
        self.stdout.write("replay: equal to the live state")

    def _report_what_if(self, live_url: str, replay_url: str, report_json: Path | None) -> None:
        report = compare_decisions(live_url, replay_url)
        self.stdout.write("\n".join(report.lines()))
        if report_json is not None:
            report_json.write_text(json.dumps(report.as_json(), indent=2) + "\n",
                                   encoding="utf-8")
            self.stdout.write(f"report written to {report_json}")

"""`manage.py replay [--keep]`: rebuild orders, fills, books, ledger and positions from the
`orders` topic (from its beginning) into a new, empty database, compare with the live
state, print the differences and exit 1 if there are any. The replay database is dropped
afterwards unless `--keep` is given.

Run it while no processor writes (or accept differences from requests that arrive during
the replay). The topic must still hold every request: retention (7 days) bounds how far
back a replay can go."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.processing.replay import differences, replay_topic


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


class Command(BaseCommand):
    help = "Replay the orders topic into an empty database and compare with the live state."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--keep", action="store_true", help="keep the replay database")
        parser.add_argument("--into-current-database", metavar="SOURCE_URL",
                            help=argparse.SUPPRESS)  # the inner step, run by this command

    def handle(self, *args: Any, **options: Any) -> None:
        if options["into_current_database"]:
            applied = replay_topic(options["into_current_database"])
            self.stdout.write(f"replayed {applied} order requests")
            return
        live_url = settings.DATABASE_URL
        name = f"{connection.settings_dict['NAME']}_replay_{int(time.time())}"
        replay_url = _with_database(live_url, name)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        try:
            # Velocity counters of the replay must not see the live run's counts.
            env = {**os.environ, "DATABASE_URL": replay_url,
                   "RISK_COUNTER_PREFIX": f"{name}:"}
            for step in (["migrate", "-v0"], ["replay", "--into-current-database", live_url]):
                result = subprocess.run([sys.executable, "manage.py", *step], env=env,  # noqa: S603
                                        capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    raise CommandError(f"replay step {step[0]} failed: "
                                       f"{result.stderr.strip().splitlines()[-1:]}")
                if result.stdout.strip():
                    self.stdout.write(result.stdout.strip())
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

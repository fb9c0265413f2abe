"""`manage.py run_consumer NAME`: run one registered consumer (`oms.consumers`) as a role,
with the probes, SIGTERM drain and dependency retries of `oms.roles.RoleCommand`; the
role is named after the consumer. `--list` prints the registry, one row per consumer."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.core.management.base import CommandError, CommandParser

from oms.consumers.loop import run_consumer
from oms.consumers.registry import UnknownConsumer, consumer_named, registry
from oms.consumers.spec import ConsumerSpec
from oms.observability.probe_server import Heartbeat
from oms.roles import RoleCommand


def registry_table(specs: Iterable[ConsumerSpec]) -> str:
    """The registry as a Markdown table (apps/README.md carries it, checked by a test)."""
    rows = ["| consumer | topics | group | batch | dead letters | what it does |",
            "|---|---|---|---|---|---|"]
    rows += [f"| `{spec.name}` | {', '.join(f'`{topic}`' for topic in spec.topics)} "
             f"| `{spec.group}` | {spec.batch_size} "
             f"| {', '.join(f'`{topic}`' for topic in spec.dead_letter_topics)} "
             f"| {spec.summary} |" for spec in specs]
    return "\n".join(rows)


class Command(RoleCommand):
    help = "Run a registered Kafka consumer by name; --list prints the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the consumer to run (see --list)")
        parser.add_argument("--list", action="store_true",
                            help="print the registered consumers and exit")
        parser.add_argument("--batch-size", type=int,
                            help="events per batch instead of the consumer's own")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self.stdout.write(registry_table(registry().values()))
            return
        if options["name"] is None:
            raise CommandError("name a consumer to run, or --list them")
        try:
            spec = consumer_named(options["name"])
        except UnknownConsumer as exc:
            raise CommandError(str(exc)) from exc
        if options["batch_size"] is not None:
            try:
                spec = replace(spec, batch_size=options["batch_size"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        self.spec = spec
        self.role = spec.name
        super().handle(*args, **options)

    def run_role(self, *, stop: threading.Event, heartbeat: Heartbeat, **options: Any) -> None:
        run_consumer(self.spec, stop=stop, heartbeat=heartbeat)

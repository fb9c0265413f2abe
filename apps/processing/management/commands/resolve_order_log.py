"""`manage.py resolve_order_log`: the operator's answer to a refused partition of `orders`
(`/ready` of the processor answers 503 naming `orders[N]`).

The processor refuses a partition whose stored offset does not belong to the broker's
current log: the log was recreated (a memory broker restarted, a topic deleted and
created again) or the offset lies beyond the log's end (`apps.processing.log_identity`).
This command re-bases each such partition's stored offset to the start of the current
log, then publishes again every order that order entry accepted (it is in the `order:{id}`
cache, kept an hour) but the processor never recorded, since its request was in the log
that is gone. The running processor takes the partitions up within seconds. One line
says what was done; nothing is done when every partition matches. `make up` runs it
before the roles start, as its restarts always meet a new broker log. If publishing fails
after the re-base, `--republish-accepted` publishes the orders on a later run."""

from __future__ import annotations

import argparse
from typing import Any

import redis
from confluent_kafka import KafkaException
from django.core.management.base import BaseCommand, CommandError

from apps.orders import services as orders
from apps.processing import log_identity
from apps.processing.processor import PROCESSOR_GROUP
from oms.kafka.topics import ORDERS


class Command(BaseCommand):
    help = ("Re-base the stored offsets of refused orders partitions to the broker's current "
            "log and publish again the accepted orders that were never processed.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--republish-accepted", action="store_true",
            help="publish again the accepted orders never processed even when every "
                 "partition matches (after a run that re-based but could not publish)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rebased = log_identity.rebase(group=PROCESSOR_GROUP, topic=ORDERS)
        except KafkaException as exc:
            raise CommandError(f"order log: the broker did not answer ({exc}); nothing "
                               "changed, run it again once the broker answers") from None
        if not rebased and not options["republish_accepted"]:
            self.stdout.write(f"order log: every partition of {ORDERS} matches its stored "
                              "offsets; nothing to resolve")
            return
        try:
            republished = orders.republish_unrecorded_orders()
        except (orders.OrderEntryUnavailable, redis.RedisError) as exc:
            raise CommandError(
                f"order log: re-based {', '.join(m.name for m in rebased) or 'nothing'}, but "
                f"publishing the accepted orders failed ({exc}); run it again with "
                "--republish-accepted (an order published twice is applied once)") from None
        changed = (f"{'; '.join(sorted({m.detail for m in rebased}))} for "
                   f"{', '.join(m.name for m in rebased)}: re-based to the start of the "
                   "current log; " if rebased else "")
        self.stdout.write(f"order log: {changed}published again {len(republished)} accepted "
                          "order(s) never processed")

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
before the roles start, as its restarts always meet a new broker log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.orders import services as orders
from apps.processing import log_identity
from apps.processing.processor import PROCESSOR_GROUP
from oms.kafka.topics import ORDERS


class Command(BaseCommand):
    help = ("Re-base the stored offsets of refused orders partitions to the broker's current "
            "log and publish again the accepted orders that were never processed.")

    def handle(self, *args: Any, **options: Any) -> None:
        rebased = log_identity.rebase(group=PROCESSOR_GROUP, topic=ORDERS)
        if not rebased:
            self.stdout.write(f"order log: every partition of {ORDERS} matches its stored "
                              "offsets; nothing to resolve")
            return
        republished = orders.republish_unrecorded_orders()
        self.stdout.write(
            f"order log: {'; '.join(sorted({m.detail for m in rebased}))} "
            f"for {', '.join(m.name for m in rebased)}: re-based to the start of the current "
            f"log; published again {len(republished)} accepted order(s) never processed")

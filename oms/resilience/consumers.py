"""How a consumer role rides out a PostgreSQL outage: its batches go through the
`postgres` breaker; a batch that fails on the database is rewound (consumed again later,
so nothing is lost, and it was rolled back, so nothing is applied twice); once the breaker
opens, the assigned partitions are paused while the loop keeps polling, so the process
stays in its group and keeps its heartbeat without fetching; when the breaker allows a
trial, one `SELECT 1` decides whether the partitions resume."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError

from oms.kafka.consumer import Batch, BatchConsumer
from oms.resilience.breakers import POSTGRES, BreakerOpen, State, breaker
from oms.resilience.database import database_answers

logger = logging.getLogger(__name__)


class DatabaseOutageGuard:
    def __init__(self, consumer: BatchConsumer) -> None:
        self.consumer = consumer
        self.database = breaker(POSTGRES)
        self.paused = False

    def resume_when_recovered(self) -> None:
        """Call at the top of each loop: resumes the partitions after a successful trial."""
        if self.paused and self.database.retry_after() == 0 and database_answers():
            self.consumer.resume(self.consumer.assignment())
            self.paused = False
            logger.info("database answers again; partitions resumed")

    def apply(self, batch: Batch, work: Callable[[Batch], None]) -> bool:
        """Run `work(batch)` (the batch's database transaction) through the breaker. False when
        the database failed: the batch is rewound, and the partitions paused if the
        breaker is open. Other exceptions are the caller's."""
        try:
            self.database.call(work, batch, failures=(DatabaseError,))
        except (DatabaseError, BreakerOpen) as exc:
            logger.warning("batch rolled back, to be consumed again: %s", exc)
            self.consumer.rewind(batch)
            if self.database.state is State.OPEN and not self.paused:
                self.consumer.pause(self.consumer.assignment())
                self.paused = True
                logger.warning("database breaker open; partitions paused for %.0f s",
                               self.database.retry_after())
            return False
        return True

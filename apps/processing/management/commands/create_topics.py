"""`manage.py create_topics`: create the topics of ARCHITECTURE.md and their dead-letter
companions on the configured cluster: partitions (`KAFKA_TOPIC_PARTITIONS`, per topic
`KAFKA_TOPIC_PARTITIONS_BY_TOPIC`) and replication (`KAFKA_REPLICATION_FACTOR`) from
settings. Run by the migration Job in Kubernetes; the launcher does the same for local
brokers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from oms.kafka.topics import ensure_topics


class Command(BaseCommand):
    help = "Create the missing Kafka topics (existing ones are left as they are)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = ensure_topics(
            settings.KAFKA_BOOTSTRAP_SERVERS, partitions=settings.KAFKA_TOPIC_PARTITIONS,
            replication_factor=settings.KAFKA_REPLICATION_FACTOR,
            partitions_by_topic=settings.KAFKA_TOPIC_PARTITIONS_BY_TOPIC,
            client_config=settings.KAFKA_CLIENT_CONFIG)
        self.stdout.write(f"created: {', '.join(created) or 'nothing (all exist)'}")

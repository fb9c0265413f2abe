"""Pruning the outbox (`prune_published`, the `processing.prune_outbox` beat task): rows
published longer ago than the keep time go, in chunks; a row not yet published stays
however old it is, and so does a recent published one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from apps.processing.models import OutboxEvent
from apps.processing.outbox import prune_published
from apps.processing.tasks import prune_outbox

pytestmark = pytest.mark.django_db(transaction=True)


def outbox_row(name: str, *, published_ago: timedelta | None, created_ago: timedelta) -> None:
    now = datetime.now(UTC)
    row = OutboxEvent.objects.create(event_id=name, topic="executions", key="BTC-USDT",
                                     body=b"{}",
                                     published_at=None if published_ago is None
                                     else now - published_ago)
    OutboxEvent.objects.filter(pk=row.pk).update(created_at=now - created_ago)


def remaining() -> set[str]:
    return set(OutboxEvent.objects.values_list("event_id", flat=True))


def test_prune_deletes_only_rows_published_before_the_keep_time_in_chunks() -> None:
    for number in range(7):
        outbox_row(f"old-{number}", published_ago=timedelta(hours=2),
                   created_ago=timedelta(hours=2))
    outbox_row("recent", published_ago=timedelta(minutes=5), created_ago=timedelta(hours=2))
    outbox_row("never-published", published_ago=None, created_ago=timedelta(days=30))

    assert prune_published(keep=timedelta(hours=1), chunk=3) == 7
    assert remaining() == {"recent", "never-published"}
    assert prune_published(keep=timedelta(hours=1), chunk=3) == 0


@override_settings(OMS_OUTBOX_KEEP_SECONDS=60)
def test_prune_task_keeps_what_was_published_within_the_setting() -> None:
    outbox_row("two-minutes", published_ago=timedelta(minutes=2), created_ago=timedelta(minutes=2))
    outbox_row("ten-seconds", published_ago=timedelta(seconds=10),
               created_ago=timedelta(seconds=10))
    outbox_row("pending", published_ago=None, created_ago=timedelta(minutes=2))

    assert prune_outbox() == 1
    assert remaining() == {"ten-seconds", "pending"}

"""Periodic work of the risk context (Celery beat)."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import shared_task

from apps.risk.services import revert_expired_overrides


@shared_task(name="risk.revert_expired_overrides")
def revert_expired() -> int:
    """Revert each applied override whose expiry has passed (audited both ways)."""
    return revert_expired_overrides(now=datetime.now(UTC))

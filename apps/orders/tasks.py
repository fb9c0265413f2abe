"""Periodic work of the orders context (Celery beat)."""

from __future__ import annotations

from datetime import UTC, datetime

from celery import shared_task

from apps.orders import selectors, services
from apps.orders.cancel_on_disconnect import fire_due_disconnects
from apps.orders.dead_man import fire_due_dead_men
from oms.redis import redis_client


@shared_task(name="orders.expire_due")
def expire_due_orders() -> int:
    """Ask the processor to cancel every working GTD order past its `expires_at` (reason
    `expired`); return how many were asked. The processor decides; a repeat is refused."""
    asked = 0
    for order in selectors.expired_working_orders(now=datetime.now(UTC)):
        # Ask once a minute at most: the read model lags the processor by a moment.
        if redis_client().set(f"expiry_requested:{order.id}", 1, nx=True, ex=60):
            services.request_cancel(order=order, requested_by=order.user_id, reason="expired")
            asked += 1
    return asked


@shared_task(name="orders.fire_dead_man_switches")
def fire_dead_man_switches() -> int:
    """Cancel the working orders of every account whose dead-man countdown ran out
    (reason `dead_man`), and of every account whose cancel-on-disconnect could not be
    fired when its stream closed (reason `disconnect`); return how many accounts fired."""
    now = datetime.now(UTC)
    return len(fire_due_dead_men(now=now)) + len(fire_due_disconnects(now=now))

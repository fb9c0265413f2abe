"""Periodic work of the processing context (Celery beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.processing.reconciliation import reconcile
from apps.risk.events import RISK_BREACH
from oms.events import new_event
from oms.kafka.shared import event_producer
from oms.kafka.topics import RISK_EVENTS

logger = logging.getLogger(__name__)


@shared_task(name="processing.reconcile")
def reconcile_and_report() -> int:
    """Run every reconciliation check; each difference becomes a `risk.breach` event."""
    findings = [finding for found in reconcile().values() for finding in found]
    for finding in findings:
        logger.error("reconciliation difference: %s", finding.detail)
        event_producer().publish(RISK_EVENTS, key="venue", event=new_event(
            RISK_BREACH, {"account": None, "check": f"reconcile.{finding.check}",
                          "detail": finding.detail[:1000]}))
    return len(findings)

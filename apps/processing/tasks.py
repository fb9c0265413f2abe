"""Periodic work of the processing context (Celery beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.processing import selectors
from apps.processing.reconciliation import reconcile
from apps.risk import selectors as risk_selectors
from apps.risk import services as risk
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


@shared_task(name="processing.check_margin")
def check_margin() -> int:
    """Flag leveraged accounts below their maintenance margin (`risk.breach`). Here, not in
    the risk context, because equity comes from the ledger, which processing owns. Marks
    are the feeds' reference prices, the last trades where a feed has none."""
    last_trades = selectors.marks()
    marks = risk_selectors.reference_marks(symbols=set(last_trades), fallback=last_trades)
    equities = {user_id: selectors.account_equity(user_id=user_id, marks=marks)
                for user_id in risk_selectors.leveraged_accounts()}
    return risk.report_margin_calls(equities=equities, marks=marks)

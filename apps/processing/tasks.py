"""Periodic work of the processing context (Celery beat)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings

from apps.processing import selectors
from apps.processing.breaks import record_breaks
from apps.processing.outbox import prune_published
from apps.processing.reconciliation import reconcile
from apps.risk import selectors as risk_selectors
from apps.risk import services as risk

logger = logging.getLogger(__name__)


@shared_task(name="processing.reconcile")
def reconcile_and_report() -> int:
    """Run every reconciliation check; each difference becomes a `Break` record (healed
    ones close) and a `risk.breach` event, emitted by the risk context
    (`report_venue_breaches`)."""
    results = reconcile()
    recorded = record_breaks(results, now=datetime.now(UTC))
    if recorded.opened or recorded.healed:
        logger.info("reconciliation breaks: %d opened, %d healed", recorded.opened,
                    recorded.healed)
    findings = [finding for found in results.values() for finding in found]
    for finding in findings:
        logger.error("reconciliation difference: %s", finding.detail)
    risk.report_venue_breaches(breaches=[(f"reconcile.{finding.check}", finding.detail)
                                         for finding in findings])
    return len(findings)


@shared_task(name="processing.prune_outbox")
def prune_outbox() -> int:
    """Delete outbox rows published more than `OMS_OUTBOX_KEEP_SECONDS` ago (never an
    unpublished one); return how many."""
    deleted = prune_published(keep=timedelta(seconds=settings.OMS_OUTBOX_KEEP_SECONDS))
    if deleted:
        logger.info("outbox: pruned %d published events", deleted)
    return deleted


@shared_task(name="processing.check_margin")
def check_margin() -> int:
    """Flag leveraged accounts below their maintenance margin (`risk.breach`). Here, not in
    the risk context, because equity comes from the ledger, which processing owns. Marks
    are the feeds' reference prices, the last trades where a feed has none."""
    last_trades = selectors.marks()
    marks = risk_selectors.reference_marks(symbols=set(last_trades), fallback=last_trades)
    equities = selectors.account_equities(user_ids=risk_selectors.leveraged_accounts(),
                                          marks=marks)
    return risk.report_margin_calls(equities=equities, marks=marks)

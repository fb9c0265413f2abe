"""Reconciliation breaks as records: each difference `reconcile` finds is a `Break` (kind,
subject, expected, actual, first and last seen), open until a later run of its check finds
it no more (it heals: closed with the evidence of that clean run) or an operator resolves
it in the admin with a note (audited, `risk.override`). A resolved break whose difference
is found again opens a new break. Open breaks are counted on `/metrics` of every role
(`oms_reconciliation_breaks_open{kind}`, read from the database at each scrape) and alerted
on (`deploy/prometheus/alerts.yaml`, OmsReconciliationBreaksOpen)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Count
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from apps.processing.models import Break
from apps.processing.reconciliation import CHECKS, Finding
from apps.risk import services as risk

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recorded:
    opened: int
    seen_again: int
    healed: int


class BreakAlreadyResolved(Exception):
    """The break was resolved (healed or by an operator) before."""


def _subject(finding: Finding) -> str:
    return (finding.subject or finding.detail)[:300]


def record_breaks(results: dict[str, list[Finding]], *, now: datetime) -> Recorded:
    """Store the findings of the checks that ran (`results`, by check): a new difference
    opens a break, one still open is seen again (latest values kept, first seen kept),
    and an open break of a check that ran clean of its subject heals, with the evidence."""
    opened = seen_again = healed = 0
    with transaction.atomic():
        open_breaks = {(b.kind, b.subject): b for b in Break.objects.select_for_update()
                       .filter(resolved_at__isnull=True, kind__in=list(results))}
        found: set[tuple[str, str]] = set()
        for kind, findings in results.items():
            for finding in findings:
                key = (kind, _subject(finding))
                if key in found:
                    continue
                found.add(key)
                existing = open_breaks.get(key)
                if existing is None:
                    Break.objects.create(kind=kind, subject=key[1], expected=finding.expected,
                                         actual=finding.actual, detail=finding.detail,
                                         first_seen_at=now, last_seen_at=now)
                    opened += 1
                else:
                    existing.last_seen_at = now
                    existing.expected, existing.actual = finding.expected, finding.actual
                    existing.detail = finding.detail
                    existing.save(update_fields=["last_seen_at", "expected", "actual",
                                                 "detail"])
                    seen_again += 1
        for key, row in open_breaks.items():
            if key in found:
                continue
            row.resolved_at = now
            row.resolution = Break.Resolution.HEALED
            row.note = "healed: a later reconciliation found no difference"
            row.evidence = {"check": row.kind, "clean_run_at": now.isoformat(),
                            "subject": row.subject, "differences_in_check":
                            len(results[row.kind]), "last_seen_at":
                            row.last_seen_at.isoformat(), "last_expected": row.expected,
                            "last_actual": row.actual}
            row.save(update_fields=["resolved_at", "resolution", "note", "evidence"])
            healed += 1
    return Recorded(opened=opened, seen_again=seen_again, healed=healed)


def resolve_break(*, break_id: int, actor_id: int, note: str, now: datetime) -> Break:
    """An operator closes an open break with a note (why it is not, or no longer, a
    difference to act on); audited and emitted as `risk.override`."""
    if not note.strip():
        raise ValueError("resolving a break needs a note")
    with transaction.atomic():
        row = Break.objects.select_for_update().get(pk=break_id)
        if row.resolved_at is not None:
            raise BreakAlreadyResolved(f"break {break_id} was resolved at {row.resolved_at}")
        row.resolved_at, row.resolved_by_id = now, actor_id
        row.resolution, row.note = Break.Resolution.OPERATOR, note.strip()
        row.save(update_fields=["resolved_at", "resolved_by", "resolution", "note"])
        risk.record_override(
            actor_id=actor_id, action="resolve_break", subject=f"break {row.pk}",
            account=None, before={"kind": row.kind, "subject": row.subject,
                                  "expected": row.expected, "actual": row.actual},
            after={"resolution": "operator", "note": row.note})
    return row


def open_break_counts() -> dict[str, int]:
    """Open breaks by kind, every check named (zero where none)."""
    counts = dict.fromkeys(CHECKS, 0)
    counts.update({row["kind"]: row["n"] for row in Break.objects.filter(
        resolved_at__isnull=True).values("kind").annotate(n=Count("id"))})
    return counts


class OpenBreaks(Collector):
    """`oms_reconciliation_breaks_open{kind}` from the database at each scrape, so every
    role reports the same truth whichever process recorded or resolved the breaks. No
    sample when the database does not answer (readiness reports that)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """(Registering asks for the names; the database is not read for that.)"""
        yield self._family()

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("oms_reconciliation_breaks_open",
                                 "Open reconciliation breaks, by kind", labels=["kind"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            counts = open_break_counts()
        except DatabaseError:
            logger.warning("open breaks not counted: the database did not answer")
            return
        family = self._family()
        for kind, count in sorted(counts.items()):
            family.add_metric([kind], count)
        yield family


_registered = False


def register_metrics() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(OpenBreaks())
        _registered = True

"""Reconciliation breaks as records, on the real database: a difference becomes a `Break`,
is counted on `/metrics`, is resolved by an operator in the admin (with a note, audited),
and one that heals closes itself with the evidence. Found again, it stays one break."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import Client

from apps.processing import services as processing
from apps.processing.models import Break, LedgerAccount
from apps.risk.models import RiskAudit
from oms.auth.roles import Role, assign_role

pytestmark = pytest.mark.django_db

CHECKS = ["conservation", "balanced"]


def reconcile() -> None:
    with pytest.raises(CommandError):
        call_command("reconcile", check=CHECKS)


@pytest.fixture
def account() -> LedgerAccount:
    user = get_user_model().objects.create(username=f"t-{uuid.uuid4().hex[:6]}")
    processing.deposit(user_id=user.pk, asset="USDT", amount=Decimal("100"), reference="r1")
    return LedgerAccount.objects.get(user=user, asset="USDT", kind="user")


def skew(account: LedgerAccount, by: str) -> None:
    """A difference that no posting explains (what a bug or a hand edit would leave)."""
    LedgerAccount.objects.filter(pk=account.pk).update(available=F("available") + Decimal(by))


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser("ops-1", "ops-1@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def open_breaks() -> dict[tuple[str, str], Break]:
    return {(b.kind, b.subject): b for b in Break.objects.filter(resolved_at__isnull=True)}


def test_a_break_appears_is_resolved_in_the_admin_and_a_healed_one_closes_itself(
        account: LedgerAccount, operator: Client) -> None:
    assert not Break.objects.exists()
    call_command("reconcile", check=CHECKS)  # clean: nothing recorded
    assert not Break.objects.exists()

    skew(account, "5")
    reconcile()
    found = open_breaks()
    assert set(found) == {("conservation", "USDT"),
                          ("balanced", f"account {account.pk} available")}
    conservation = found[("conservation", "USDT")]
    assert (conservation.expected, conservation.actual) == (
        "100.000000000000000000", "105.000000000000000000")
    metrics = operator.get("/metrics").content.decode()
    assert 'oms_reconciliation_breaks_open{kind="conservation"} 1.0' in metrics
    assert 'oms_reconciliation_breaks_open{kind="books"} 0.0' in metrics

    reconcile()  # found again: the same breaks, first seen kept
    assert Break.objects.count() == 2
    assert open_breaks()[("conservation", "USDT")].first_seen_at == conservation.first_seen_at

    balanced = found[("balanced", f"account {account.pk} available")]
    refused = operator.post(f"/admin/processing/break/{balanced.pk}/resolve/", {"note": ""})
    assert refused.status_code == 200
    assert Break.objects.get(pk=balanced.pk).resolved_at is None
    assert not RiskAudit.objects.filter(action="resolve_break").exists()
    listed = operator.get("/admin/processing/break/?state=open")
    assert f"/admin/processing/break/{balanced.pk}/resolve/" in listed.content.decode()
    done = operator.post(f"/admin/processing/break/{balanced.pk}/resolve/",
                         {"note": "known: hand edit in case 42, corrected below"})
    assert done.status_code == 302
    resolved = Break.objects.get(pk=balanced.pk)
    assert (resolved.resolution, resolved.resolved_by.username, resolved.note) == (
        "operator", "ops-1", "known: hand edit in case 42, corrected below")
    [audit] = RiskAudit.objects.filter(action="resolve_break")
    assert audit.before["subject"] == balanced.subject

    skew(account, "-5")  # the difference heals
    call_command("reconcile", check=CHECKS)
    healed = Break.objects.get(pk=conservation.pk)
    assert healed.resolution == "healed"
    assert healed.resolved_by is None
    assert healed.evidence["check"] == "conservation"
    assert healed.evidence["differences_in_check"] == 0
    assert healed.evidence["last_actual"] == "105.000000000000000000"
    assert not open_breaks()
    metrics = operator.get("/metrics").content.decode()
    assert 'oms_reconciliation_breaks_open{kind="conservation"} 0.0' in metrics


def test_a_check_not_run_leaves_its_breaks_open(account: LedgerAccount) -> None:
    skew(account, "1")
    reconcile()
    skew(account, "-1")
    call_command("reconcile", check=["books"])
    assert len(open_breaks()) == 2


def test_a_trader_cannot_resolve_a_break(account: LedgerAccount) -> None:
    skew(account, "1")
    reconcile()
    user = get_user_model().objects.create_user("trader-1", password="pw", is_staff=True)
    assign_role(user, Role.TRADER)
    client = Client()
    client.force_login(user)
    [row, *_] = open_breaks().values()
    response = client.post(f"/admin/processing/break/{row.pk}/resolve/", {"note": "x"})
    assert response.status_code in (302, 403)
    assert Break.objects.get(pk=row.pk).resolved_at is None

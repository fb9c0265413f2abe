"""Four eyes and expiring overrides.

Three overrides need a second operator: raising a limit above its configured threshold
(`RISK_FOUR_EYES_THRESHOLDS`, by limit name; removing a limit that has a threshold counts as
raising it to infinity), releasing a global or symbol kill switch (no account in scope),
and a manual ledger adjustment. Such a request waits (`pending`) until another operator
approves it, which applies it, or rejects it; its requester can never decide it. Any
override of limits or kill switches may carry `expires_at`: once applied, it reverts by
itself at that time (the Celery beat task `risk.revert_expired_overrides`): limits go back
to the values it replaced, a released switch engages again, an engaged one is released.
Requests, decisions and reverts are audited (`RiskAudit`) and emitted on `risk-events`
(`risk.override`); the change itself is audited and emitted by the service that makes it.

A ledger adjustment is executed by the processing context, which registers its executor
(`register_executor`) at start: risk may not call processing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.risk.models import KillSwitch, OverrideRequest, RiskLimit
from apps.risk.selectors import LIMIT_FIELDS

SET_LIMITS = "set_limits"
ENGAGE_KILL_SWITCH = "engage_kill_switch"
RELEASE_KILL_SWITCH = "release_kill_switch"
ADJUST_BALANCE = "adjust_balance"
REVERSIBLE = {SET_LIMITS, ENGAGE_KILL_SWITCH, RELEASE_KILL_SWITCH}

Executor = Callable[[dict[str, Any], int | None], None]
_executors: dict[str, Executor] = {}


class OverrideRefused(Exception):
    """The request cannot be made or decided (the code says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class OverrideView:
    id: int
    action: str
    status: str
    needs_approval: bool
    requested_by: int
    expires_at: datetime | None
    outcome: str


def _view(row: OverrideRequest) -> OverrideView:
    return OverrideView(id=row.pk, action=row.action, status=row.status,
                        needs_approval=row.needs_approval, requested_by=row.requested_by_id,
                        expires_at=row.expires_at, outcome=row.outcome)


def register_executor(action: str, executor: Executor) -> None:
    """Let another context execute `action` once approved (`executor(params, actor_id)`)."""
    _executors[action] = executor


def thresholds() -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in settings.RISK_FOUR_EYES_THRESHOLDS.items()}


def _current_limits(params: dict[str, Any]) -> dict[str, Any]:
    scope = RiskLimit.objects.filter(symbol=params.get("symbol", ""))
    user_id = params.get("user_id")
    row = (scope.filter(user__isnull=True) if user_id is None
           else scope.filter(user_id=user_id)).first()
    return {name: None if row is None else getattr(row, name) for name in LIMIT_FIELDS}


def needs_second_operator(action: str, params: dict[str, Any]) -> bool:
    if action == ADJUST_BALANCE:
        return True
    if action == RELEASE_KILL_SWITCH:
        return params.get("user_id") is None
    if action == SET_LIMITS:
        current = _current_limits(params)
        for name, limit in thresholds().items():
            if name not in params["values"]:
                continue
            new, old = params["values"][name], current.get(name)
            if new is None and old is not None:
                return True  # removed: no limit at all
            if new is not None and Decimal(str(new)) > limit \
                    and (old is None or Decimal(str(new)) > Decimal(str(old))):
                return True
    return False


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: None if v is None else str(v) if isinstance(v, Decimal) else v
            for k, v in values.items()}


def _audit(action: str, row: OverrideRequest, actor_id: int | None,
           after: dict[str, Any]) -> None:
    from apps.risk.services import record_override

    record_override(actor_id=actor_id, action=action, subject=f"override {row.pk}",
                    account=None if row.params.get("user_id") is None
                    else str(row.params["user_id"]),
                    before={"action": row.action, "params": row.params},
                    after={"status": row.status, **after})


def _apply(row: OverrideRequest, actor_id: int | None) -> None:
    """Make the change (through the owning service, which audits and emits it) and keep
    what it replaced for the revert."""
    from apps.risk import services

    params = row.params
    if row.action == SET_LIMITS:
        row.before = _plain(_current_limits(params))
        services.set_limits(actor_id=actor_id, user_id=params.get("user_id"),
                            symbol=params.get("symbol", ""), values=_values(params["values"]))
    elif row.action in (ENGAGE_KILL_SWITCH, RELEASE_KILL_SWITCH):
        engaged = KillSwitch.objects.filter(user_id=params.get("user_id"),
                                            symbol=params.get("symbol", ""),
                                            engaged=True).exists()
        row.before = {"engaged": engaged}
        _switch(row.action == ENGAGE_KILL_SWITCH, params, actor_id,
                reason=params.get("reason") or row.reason)
    elif row.action in _executors:
        _executors[row.action](params, actor_id)
    else:
        raise OverrideRefused("unknown_action", f"no executor for {row.action}")


INTEGER_LIMITS = {"max_open_orders", "max_orders_per_second", "max_orders_per_minute"}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    """Limit values as stored in a request (strings) back to the service's types."""
    return {name: None if value is None else int(value) if name in INTEGER_LIMITS
            else Decimal(str(value)) for name, value in values.items()}


def _switch(engage: bool, params: dict[str, Any], actor_id: int | None, *, reason: str) -> None:
    from apps.risk import services

    if engage:
        services.engage_kill_switch(actor_id=actor_id, user_id=params.get("user_id"),
                                    symbol=params.get("symbol", ""), reason=reason)
    else:
        services.release_kill_switch(actor_id=actor_id, user_id=params.get("user_id"),
                                     symbol=params.get("symbol", ""))


def request_override(*, actor_id: int, action: str, params: dict[str, Any], reason: str,
                     expires_at: datetime | None, now: datetime) -> OverrideView:
    """Ask for an override: applied at once when one operator may make it, else pending a
    second operator. `expires_at` (limits and kill switches only) makes it revert then."""
    if expires_at is not None:
        if action not in REVERSIBLE:
            raise OverrideRefused("not_reversible", f"{action} cannot expire: make the "
                                  "opposite change instead")
        if expires_at <= now:
            raise OverrideRefused("expiry_in_past", "expires_at must be in the future")
    with transaction.atomic():
        approval = needs_second_operator(action, params)
        row = OverrideRequest.objects.create(
            action=action, params=_plain(params) if action != SET_LIMITS
            else {**params, "values": _plain(params["values"])}, reason=reason,
            needs_approval=approval, requested_by_id=actor_id, requested_at=now,
            expires_at=expires_at)
        if approval:
            _audit("request_override", row, actor_id, {"expires_at": _iso(expires_at)})
        else:
            _apply(row, actor_id)
            row.status, row.decided_at = OverrideRequest.Status.APPLIED, now
            row.save()
            if expires_at is not None:
                _audit("apply_override", row, actor_id, {"expires_at": _iso(expires_at)})
    return _view(row)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _pending(request_id: int) -> OverrideRequest:
    row = OverrideRequest.objects.select_for_update().filter(pk=request_id).first()
    if row is None:
        raise OverrideRefused("not_found", f"no override request {request_id}")
    if row.status != OverrideRequest.Status.PENDING:
        raise OverrideRefused("not_pending", f"override {request_id} is {row.status}")
    return row


def approve_override(*, request_id: int, actor_id: int, now: datetime) -> OverrideView:
    """A second operator approves: the override is applied now. Its requester may not."""
    with transaction.atomic():
        row = _pending(request_id)
        if row.requested_by_id == actor_id:
            raise OverrideRefused("same_operator", "the requester cannot approve their own "
                                  "override: a second operator must")
        if row.expires_at is not None and row.expires_at <= now:
            raise OverrideRefused("expired", "the override's expiry has passed: request it "
                                  "again")
        _apply(row, actor_id)
        row.status, row.decided_by_id, row.decided_at = (OverrideRequest.Status.APPLIED,
                                                         actor_id, now)
        row.save()
        _audit("approve_override", row, actor_id, {"requested_by": row.requested_by_id})
    return _view(row)


def reject_override(*, request_id: int, actor_id: int, now: datetime, note: str = ""
                    ) -> OverrideView:
    """Any operator (the requester too: a withdrawal) rejects a pending request."""
    with transaction.atomic():
        row = _pending(request_id)
        row.status, row.decided_by_id, row.decided_at = (OverrideRequest.Status.REJECTED,
                                                         actor_id, now)
        row.outcome = note
        row.save()
        _audit("reject_override", row, actor_id, {"note": note})
    return _view(row)


def revert_expired_overrides(*, now: datetime) -> int:
    """Revert every applied override whose expiry has passed; each in its own transaction,
    audited (actor: none, the clock). Returns how many."""
    due = list(OverrideRequest.objects.filter(
        status=OverrideRequest.Status.APPLIED, expires_at__lte=now,
        reverted_at__isnull=True).values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            row = OverrideRequest.objects.select_for_update().get(pk=pk)
            if row.status != OverrideRequest.Status.APPLIED:
                continue
            params = row.params
            if row.action == SET_LIMITS:
                from apps.risk import services

                services.set_limits(actor_id=None, user_id=params.get("user_id"),
                                    symbol=params.get("symbol", ""),
                                    values=_values(dict(row.before or {})))
            elif row.action in (ENGAGE_KILL_SWITCH, RELEASE_KILL_SWITCH):
                was_engaged = bool((row.before or {}).get("engaged"))
                _switch(was_engaged, params, None, reason=f"override {row.pk} expired")
            row.status, row.reverted_at = OverrideRequest.Status.REVERTED, now
            row.save()
            _audit("revert_override", row, None, {"expired_at": _iso(row.expires_at)})
    return len(due)

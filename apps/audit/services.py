"""Writes of the audit context: `record` adds an entry and logs it as a JSON line (logger
`oms.audit`, the entry under `audit`), so the trail reaches the log store even when the
database write fails. Callers describe a change in plain data; secrets never enter it
(`redact` removes the usual ones from request payloads)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from apps.audit.models import AuditEntry
from oms.auth.roles import User, roles_of
from oms.observability.context import current_correlation_id

__all__ = ["Kind", "record", "redact"]

logger = logging.getLogger("oms.audit")
Kind = AuditEntry.Kind

REDACTED = "[redacted]"
_SECRET_NAMES = frozenset({"password", "secret", "token", "access", "refresh",
                           "csrfmiddlewaretoken", "api_key", "signature"})
_SECRET_FRAGMENTS = ("password", "secret", "token")


def redact(value: Any) -> Any:
    """`value` with the values of secret-looking keys replaced, at any depth."""
    if isinstance(value, Mapping):
        return {key: REDACTED if _is_secret(str(key)) else redact(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(part in lowered for part in _SECRET_FRAGMENTS)


def record(*, kind: str, actor: User | None, action: str, target: str = "",
           method: str = "", path: str = "", status_code: int | None = None,
           payload: Any = None, before: Any = None, after: Any = None,
           client_ip: str | None = None) -> None:
    """Add one entry for a privileged action by `actor` (None or anonymous: the system).
    The time and the correlation id are the current ones; the actor's username and roles
    are copied so the entry reads the same after the user changes."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    entry = AuditEntry(
        occurred_at=timezone.now(), kind=kind, actor_id=actor.pk if actor else None,
        actor_username=actor.get_username() if actor else "",
        actor_roles=sorted(roles_of(actor)) if actor else [], client_ip=client_ip,
        action=action[:200], target=target[:500], method=method, path=path[:500],
        status_code=status_code, payload=payload, before=before, after=after,
        correlation_id=current_correlation_id() or "")
    logged = {"kind": kind, "actor": entry.actor_username, "roles": entry.actor_roles,
              "client_ip": client_ip, "action": entry.action, "target": entry.target,
              "status_code": status_code, "payload": payload, "before": before,
              "after": after}
    try:
        entry.save()
    except DatabaseError:
        logger.exception("audit entry not stored: %s", entry.action, extra={"audit": logged})
        return
    logger.info("audit: %s", entry.action, extra={"audit": {"id": entry.pk, **logged}})

"""Events on `risk-events` (key: account, or `venue`)."""

from typing import Any

from oms.events import register_schema
from oms.events.fields import payload_schema

RISK_BREACH = "risk.breach"
LIMIT_CHANGED = "risk.limit_changed"
KILL_SWITCH = "risk.kill_switch"
OVERRIDE = "risk.override"  # an operator's other overrides, such as balance adjustments

_ACCOUNT: dict[str, Any] = {"type": ["string", "null"],
                            "description": "user id, or null for the venue"}

register_schema(RISK_BREACH, payload_schema({
    "account": _ACCOUNT,
    "check": {"type": "string"},
    "detail": {"type": "string"},
}))

_OVERRIDE = payload_schema({
    "account": _ACCOUNT,
    "action": {"type": "string"},
    "subject": {"type": "string"},
    "actor": {"type": ["integer", "null"]},
    "before": {"type": ["object", "null"]},
    "after": {"type": ["object", "null"]},
})
register_schema(LIMIT_CHANGED, _OVERRIDE)
register_schema(KILL_SWITCH, _OVERRIDE)
register_schema(OVERRIDE, _OVERRIDE)

"""Events on `risk-events` (key: account)."""

from oms.events import register_schema
from oms.events.fields import payload_schema

RISK_BREACH = "risk.breach"

register_schema(RISK_BREACH, payload_schema({
    "account": {"type": ["string", "null"], "description": "user id, or null for the venue"},
    "check": {"type": "string"},
    "detail": {"type": "string"},
}))

"""The event envelope every topic carries, and the registry of payload schemas that
validates each event before it is published and after it is consumed."""

from oms.events.envelope import Event, InvalidEvent, new_event
from oms.events.registry import register_schema, registered_schemas, validate_event

__all__ = [
    "Event",
    "InvalidEvent",
    "new_event",
    "register_schema",
    "registered_schemas",
    "validate_event",
]

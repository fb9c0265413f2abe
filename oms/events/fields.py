"""JSON-schema fragments that event payloads share, so every topic spells an amount, an id
and a time the same way."""

from typing import Any

DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "maxLength": 64}
OPTIONAL_DECIMAL: dict[str, Any] = {"anyOf": [DECIMAL, {"type": "null"}]}
UUID = {"type": "string", "format": "uuid",
        "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
TIMESTAMP = {"type": "string", "format": "date-time"}
OPTIONAL_TIMESTAMP: dict[str, Any] = {"anyOf": [TIMESTAMP, {"type": "null"}]}
SYMBOL = {"type": "string", "pattern": r"^[A-Z0-9]{2,12}-[A-Z0-9]{2,12}$"}


def payload_schema(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object schema: every property required unless listed optional, no others."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }

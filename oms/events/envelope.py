"""The envelope of ARCHITECTURE.md: `event_id`, `type`, `schema_version`, `occurred_at`
(UTC ISO 8601), `correlation_id` and `payload`, serialized as one JSON object.

Amounts in payloads are strings (D8): the encoder (orjson: the processor serializes
thousands of events a second, several times faster than `json.dumps`) refuses a `Decimal`,
so a float can never slip in by accident."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from oms.observability.context import current_correlation_id


def encode_json(data: Mapping[str, Any]) -> bytes:
    """Compact JSON of an event's dict (keys that are not strings become strings, as with
    `json.dumps`)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


@lru_cache(maxsize=1024)
def utc_text(moment: datetime) -> str:
    """A moment as the envelope writes it (UTC, `Z`), remembered: the events a processor
    emits for one input share its moment."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class InvalidEvent(ValueError):
    """A message that is not a valid event: bad JSON, bad envelope or bad payload."""


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    payload: Mapping[str, Any]
    event_id: str
    occurred_at: datetime
    correlation_id: str | None
    schema_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": utc_text(self.occurred_at),
            "correlation_id": self.correlation_id,
            "payload": dict(self.payload),
        }

    def to_json(self) -> bytes:
        return encode_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        try:
            occurred_at = datetime.fromisoformat(str(data["occurred_at"]).replace("Z", "+00:00"))
            if occurred_at.tzinfo is None:
                raise InvalidEvent("occurred_at must carry a time zone")
            return cls(
                type=str(data["type"]),
                payload=data["payload"],
                event_id=str(data["event_id"]),
                occurred_at=occurred_at,
                correlation_id=data.get("correlation_id"),
                schema_version=int(data["schema_version"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent(f"bad envelope: {exc}") from exc

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        return cls.from_dict(envelope_dict(raw))


def envelope_dict(raw: bytes | str) -> dict[str, Any]:
    """An event's JSON as the dict it holds, unchecked beyond being a JSON object."""
    try:
        data = orjson.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidEvent("an event is a JSON object")
    return data


def new_event(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    correlation_id: str | None = None,
    schema_version: int = 1,
) -> Event:
    """An event stamped now, with a fresh id and the current correlation id unless given.
    Writers that must emit the same event again after a crash pass a stable `event_id`."""
    return Event(
        type=event_type,
        payload=payload,
        event_id=event_id or str(uuid.uuid4()),
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id or current_correlation_id(),
        schema_version=schema_version,
    )

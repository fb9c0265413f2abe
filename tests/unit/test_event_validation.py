"""Every event is checked against its envelope and its payload's schema before it leaves
(the envelope's check skips the payload, which its own schema checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from oms.events import new_event
from oms.events.envelope import Event, InvalidEvent, utc_text
from oms.events.registry import decoded_event, register_schema, validate_event, validated_json

register_schema("test.thing", {"type": "object", "required": ["n"],
                               "properties": {"n": {"type": "string"}},
                               "additionalProperties": False})


def test_a_valid_event_passes_and_is_serialized() -> None:
    event = new_event("test.thing", {"n": "1"}, event_id="e-1",
                      occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    validate_event(event)
    assert b'"occurred_at":"2026-01-02T03:04:05Z"' in validated_json(event)


@pytest.mark.parametrize(("changes", "where"), [
    ({"payload": {"n": 1}}, "test.thing payload invalid at n"),
    ({"payload": {"n": "1", "extra": "x"}}, "test.thing payload invalid at (root)"),
    ({"event_id": ""}, "envelope invalid at event_id"),
    ({"type": "Not A Type"}, "envelope invalid at type"),
])
def test_an_invalid_envelope_or_payload_is_refused(changes: dict[str, object],
                                                   where: str) -> None:
    fields: dict[str, object] = {"type": "test.thing", "payload": {"n": "1"},
                                 "event_id": "e-1", "occurred_at": datetime.now(UTC),
                                 "correlation_id": None, **changes}
    event = Event(**fields)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent, match=where.replace("(", r"\(").replace(")", r"\)")):
        validate_event(event)


def test_moments_are_written_in_utc() -> None:
    moment = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert utc_text(moment) == "2026-01-02T03:04:05Z"


SENT = {"event_id": "e-1", "type": "test.thing", "schema_version": 1,
        "occurred_at": "2026-01-02T03:04:05Z", "correlation_id": None, "payload": {"n": "1"}}


def test_a_consumed_event_is_checked_as_it_was_sent() -> None:
    event = decoded_event(orjson.dumps(SENT))
    assert (event.type, event.payload, event.occurred_at) == (
        "test.thing", {"n": "1"}, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


@pytest.mark.parametrize(("changes", "where"), [
    # What building the dict again from the `Event` would have dropped or converted.
    ({"trace": "x"}, "envelope invalid at (root)"),
    ({"schema_version": "1"}, "envelope invalid at schema_version"),
    ({"payload": ["n", "1"]}, "test.thing payload invalid at (root)"),
    ({"payload": {"n": 1}}, "test.thing payload invalid at n"),
])
def test_a_consumed_event_that_was_sent_invalid_is_refused(changes: dict[str, object],
                                                           where: str) -> None:
    with pytest.raises(InvalidEvent, match=where.replace("(", r"\(").replace(")", r"\)")):
        decoded_event(orjson.dumps({**SENT, **changes}))

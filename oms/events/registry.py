"""JSON schemas of event payloads, by event type and schema version. Each app registers the
schemas of the events it emits (in its `events` module); producers validate before
publishing and consumers validate after decoding, so a bad event never travels silently.

The envelope itself is validated here too, against `ENVELOPE_SCHEMA`. Every event the
processor writes and reads is validated, so the check runs in `jsonschema_rs` (compiled,
about a hundred times faster); `jsonschema` only explains a failure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from oms.events.envelope import Event, InvalidEvent, encode_json, envelope_dict

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["event_id", "type", "schema_version", "occurred_at", "correlation_id",
                 "payload"],
    "additionalProperties": False,
    "properties": {
        "event_id": {"type": "string", "minLength": 1, "maxLength": 128},
        # Dotted names (`order.fill`) and the topic table's bare ones (`trade`).
        "type": {"type": "string", "pattern": r"^[a-z][a-z_]*(\.[a-z_]+)*$"},
        "schema_version": {"type": "integer", "minimum": 1},
        "occurred_at": {"type": "string", "format": "date-time"},
        "correlation_id": {"type": ["string", "null"], "maxLength": 128},
        "payload": {"type": "object"},
    },
}

Validators = tuple[jsonschema_rs.Draft202012Validator, Draft202012Validator]


def _validators_of(schema: dict[str, Any]) -> Validators:
    """The fast check and the explaining one; formats are annotations, as in jsonschema."""
    return (jsonschema_rs.Draft202012Validator(schema, validate_formats=False),
            Draft202012Validator(schema))


def _whole_event_check(payload_schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    """The envelope and this type's payload checked in one call: what nearly every event
    takes (a valid one); an invalid one is then explained in two steps."""
    whole = {**ENVELOPE_SCHEMA, "properties": {**ENVELOPE_SCHEMA["properties"],
                                               "payload": payload_schema}}
    return jsonschema_rs.Draft202012Validator(whole, validate_formats=False)


_ENVELOPE_VALIDATOR = _validators_of(ENVELOPE_SCHEMA)
_validators: dict[tuple[str, int], Validators] = {}
_whole_events: dict[tuple[str, int], jsonschema_rs.Draft202012Validator] = {}
_schemas: dict[tuple[str, int], dict[str, Any]] = {}


def register_schema(
    event_type: str, payload_schema: Mapping[str, Any], *, version: int = 1
) -> None:
    """Register the payload schema of one event type and version. Registering the same
    schema twice is harmless; a different schema under the same key is a programming error."""
    key = (event_type, version)
    schema = dict(payload_schema)
    Draft202012Validator.check_schema(schema)
    if key in _schemas and _schemas[key] != schema:
        raise ValueError(f"a different schema is already registered for {event_type} v{version}")
    _schemas[key] = schema
    _validators[key] = _validators_of(schema)
    _whole_events[key] = _whole_event_check(schema)


def registered_schemas() -> dict[tuple[str, int], dict[str, Any]]:
    return dict(_schemas)


def _raise_first_error(validators: Validators, instance: object, what: str) -> None:
    fast, explaining = validators
    if fast.is_valid(instance):  # the common case: no error collection at all
        return
    error = best_match(explaining.iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise InvalidEvent(f"{what} invalid at {where}: {error.message}")


def validate_event(event: Event) -> None:
    """Raise `InvalidEvent` unless the envelope and the payload match their schemas."""
    _validate(event, event.to_dict())


def decoded_event(raw: bytes | str) -> Event:
    """The event `raw` holds, once it is valid: the envelope is checked as it was sent
    (extra fields, a version in quotes and a payload that is no object are refused, not
    dropped or converted), without building its dict again from the `Event`."""
    data = envelope_dict(raw)
    event = Event.from_dict(data)
    _validate(event, data)
    return event


def validated_json(event: Event) -> bytes:
    """The event as JSON, once it is valid (`validate_event`), building its dict once."""
    data = event.to_dict()
    _validate(event, data)
    return encode_json(data)


def _validate(event: Event, data: dict[str, Any]) -> None:
    whole = _whole_events.get((event.type, event.schema_version))
    if whole is not None and whole.is_valid(data):
        return
    # The envelope's schema only asks that the payload be an object, which `to_dict`
    # always makes it: the envelope is checked without it, so that the payload is not
    # converted a second time (its own schema checks it below).
    payload = data["payload"]
    _raise_first_error(_ENVELOPE_VALIDATOR, {**data, "payload": {}}, "envelope")
    validator = _validators.get((event.type, event.schema_version))
    if validator is None:
        raise InvalidEvent(f"no schema registered for {event.type} v{event.schema_version}")
    _raise_first_error(validator, payload, f"{event.type} payload")

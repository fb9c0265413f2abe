"""The processor's derived ids are exactly `uuid.uuid5`'s: a replay, or a reader that
derives an id itself, gets the same one whichever helper made it."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from oms.ids import (
    NameSeries,
    name_based_id,
    name_based_uuid,
    name_based_uuid_and_id,
    parse_uuid,
)

NAMESPACE = uuid.UUID("0b7f3c1e-5a2d-4f60-8e91-3c4d5e6f7a8b")


@given(st.text())
def test_name_based_ids_are_uuid5(name: str) -> None:
    expected = uuid.uuid5(NAMESPACE, name)
    made = name_based_uuid(NAMESPACE, name)
    assert made == expected
    assert (made.version, made.variant) == (5, uuid.RFC_4122)
    assert name_based_id(NAMESPACE, name) == str(expected)
    assert name_based_uuid_and_id(NAMESPACE, name) == (expected, str(expected))


@given(st.text(), st.text())
def test_a_name_series_makes_the_ids_of_its_whole_names(prefix: str, end: str) -> None:
    expected = uuid.uuid5(NAMESPACE, prefix + end)
    series = NameSeries(NAMESPACE, prefix)
    assert series.text(end) == str(expected)
    made, text = series.uuid_and_text(end)
    assert (made, text) == (expected, str(expected))
    assert (made.version, made.variant) == (5, uuid.RFC_4122)


def test_parse_uuid_is_uuid() -> None:
    text = str(uuid.uuid4())
    assert parse_uuid(text) == uuid.UUID(text)
    assert parse_uuid(text.upper()) == uuid.UUID(text)

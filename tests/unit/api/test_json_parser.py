"""The API's JSON parser (`oms.api.parsers.FastJSONParser`) against DRF's `JSONParser`,
which it stands in for: on generated bodies - JSON values of every shape, integers wider
than 64 bits, out-of-range numbers, `NaN`, broken JSON, bytes that are not UTF-8, and
other charsets - it gives DRF's value, or DRF's error with DRF's message."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from oms.api.parsers import FastJSONParser

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
ODD_BODIES = st.sampled_from([
    b"", b"{", b"{}", b"[1,]", b'{"a": NaN}', b'{"a": Infinity}', b"-Infinity", b"1e400",
    b"-1e400", b"18446744073709551616", b"-9223372036854775809", b'"\xff"', b"\xef\xbb\xbf{}",
    b'{"a": 1, "a": 2}', b'"\\ud800"', b"  {} ", b"{} x", b"\x00",
    '{"symbol": "ÉTH-USDT"}'.encode(),
]) | st.binary(max_size=40)


def outcome(parser: JSONParser, body: bytes, encoding: str) -> tuple[str, Any]:
    try:
        value = parser.parse(io.BytesIO(body), "application/json", {"encoding": encoding})
    except ParseError as exc:
        return "error", str(exc.detail)
    return "value", value


def same(left: Any, right: Any) -> bool:
    """Equal, with NaN equal to itself and floats compared by type too."""
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return bool(left == right)


def check(body: bytes, encoding: str = "utf-8") -> None:
    fast, drf = outcome(FastJSONParser(), body, encoding), outcome(JSONParser(), body, encoding)
    assert fast[0] == drf[0], (body, fast, drf)
    assert same(fast[1], drf[1]), (body, fast, drf)


@settings(max_examples=1500, deadline=None)
@given(JSON_VALUES)
def test_a_json_body_reads_as_drf_reads_it(value: Any) -> None:
    check(json.dumps(value).encode())


@settings(max_examples=500, deadline=None)
@given(ODD_BODIES)
def test_an_odd_body_reads_or_fails_as_with_drf(body: bytes) -> None:
    check(body)


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "latin-1", "utf-16", "bz2_codec",
                                      "no-such-charset"])
def test_other_charsets_are_drfs(encoding: str) -> None:
    for body in (b'{"a": "\xe9"}', '{"a": "é"}'.encode("utf-16"), b"{}"):
        check(body, encoding)

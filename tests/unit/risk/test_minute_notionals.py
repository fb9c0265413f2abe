"""An account's notionals of a minute: the velocity check's notional limit counts every
other order of the minute, exactly, and an order decided again (a batch applied again) is
not counted twice."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.risk.domain.notionals import LIMBS, MinuteNotionals, from_limbs, to_limbs
from oms.money import MONEY_CONTEXT

NOTIONALS = st.decimals(min_value=0, max_value=D(10) ** 18, places=36, allow_nan=False,
                        allow_infinity=False)


def limbs(notional: D) -> list[int]:
    return [int(limb) for limb in to_limbs(notional).split(",")]


@given(NOTIONALS)
def test_a_notional_comes_back_exactly_from_its_limbs(notional: D) -> None:
    assert len(limbs(notional)) == LIMBS
    assert from_limbs(limbs(notional)) == notional


@given(st.lists(NOTIONALS, max_size=30))
def test_limbs_added_one_by_one_give_the_exact_sum(notionals: list[D]) -> None:
    """What Redis does with `HINCRBY` on each limb, carries left in the limbs."""
    totals = [sum(column) for column in zip(*(limbs(n) for n in notionals), strict=True)]
    expected = D(0)
    for notional in notionals:
        expected = MONEY_CONTEXT.add(expected, notional)
    assert from_limbs(totals or [0] * LIMBS) == expected


def test_a_notional_taken_back_leaves_the_rest() -> None:
    kept, taken = limbs(D("123.456")), limbs(D("999.999999999999999999"))
    assert from_limbs([a + b - b for a, b in zip(kept, taken, strict=True)]) == D("123.456")


def test_a_notional_finer_than_the_limbs_is_rounded_up() -> None:
    assert from_limbs(limbs(D("1E-37"))) == D("1E-36")


def test_a_notional_beyond_what_a_minute_holds_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        to_limbs(D(10) ** 27)
    with pytest.raises(ValueError, match="outside"):
        to_limbs(D("-1"))


def test_an_order_counts_every_other_order_of_its_minute() -> None:
    minute = MinuteNotionals(by_order={"a": D("100.5")}, total=D("120.5"))
    assert minute.besides("new") == D("120.5")
    assert minute.besides("a") == D("20")


def test_recording_an_order_again_replaces_its_notional() -> None:
    minute = MinuteNotionals()
    minute.record("a", D("10"))
    minute.record("b", D("0.000000000000000001"))
    minute.record("a", D("7"))
    assert (minute.total, minute.by_order) == (D("7.000000000000000001"),
                                               {"a": D("7"), "b": D("0.000000000000000001")})
    assert minute.besides("b") == D("7")


def test_large_totals_stay_exact() -> None:
    """Beyond the default context's 28 digits: a minute of many large orders."""
    minute = MinuteNotionals()
    for n in range(1000):
        minute.record(str(n), D("999999999999.999999999999999999"))
    assert minute.total == D("999999999999999.999999999999999000")
    assert minute.besides("0") == D("998999999999999.999999999999999001")

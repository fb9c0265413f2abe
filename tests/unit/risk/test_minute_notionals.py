"""An account's notionals of a minute: the velocity check's notional limit counts every
other order of the minute, and an order decided again (a batch applied again) is not
counted twice."""

from __future__ import annotations

from decimal import Decimal as D

from apps.risk.domain.notionals import MinuteNotionals


def test_an_order_counts_every_other_order_of_its_minute() -> None:
    minute = MinuteNotionals.of({"a": D("100.5"), "b": D("20")})
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

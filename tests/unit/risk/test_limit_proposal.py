"""The proposed limits of a what-if replay, read from JSON or TOML: exact decimals, whole
counts, `none` to remove a limit, and every problem of a bad file named with its place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.risk.domain.limit_proposal import (
    LimitProposal,
    LimitProposalError,
    ProposedScope,
    format_of,
    parse_limit_proposal,
)

TOML = """
[[limits]]
user = "alice"
symbol = "BTC-USDT"
max_order_notional = "1000.5"
max_open_orders = 3

[[limits]]
daily_loss = "none"
price_band = 0.05
"""


def test_toml_and_json_read_the_same_proposal_exactly() -> None:
    expected = LimitProposal(scopes=(
        ProposedScope(user="alice", symbol="BTC-USDT",
                      values={"max_order_notional": Decimal("1000.5"), "max_open_orders": 3}),
        ProposedScope(user=None, symbol="", values={"daily_loss": None,
                                                    "price_band": Decimal("0.05")}),
    ))
    assert parse_limit_proposal(TOML, file_format="toml") == expected
    json_text = ('{"limits": [{"user": "alice", "symbol": "BTC-USDT", "max_order_notional":'
                 ' 1000.5, "max_open_orders": 3}, {"daily_loss": null, "price_band": "0.05"}]}')
    assert parse_limit_proposal(json_text, file_format="json") == expected
    assert expected.usernames == {"alice"}
    assert expected.symbols == {"BTC-USDT"}


@pytest.mark.parametrize(("text", "problems"), [
    ('{"limits": []}', ['expected one key, "limits": a non-empty list of scopes']),
    ('{"limit": [{"max_position": 1}]}',
     ['expected one key, "limits": a non-empty list of scopes']),
    ('{"limits": [1]}', ["limits[0]: expected a table of limits"]),
    ('{"limits": [{"user": "alice"}]}', ["limits[0]: names no limit"]),
    ('{"limits": [{"max_positon": 1}]}', ["limits[0]: unknown limits ['max_positon']; known: "
                                           "max_position, max_position_notional, "
                                           "max_order_quantity, max_order_notional, "
                                           "max_open_orders, price_band, daily_loss, "
                                           "concentration, max_orders_per_second, "
                                           "max_orders_per_minute, max_notional_per_minute"]),
    ('{"limits": [{"max_position": "-1", "max_open_orders": 2.5, "daily_loss": "lots",'
     ' "price_band": true, "concentration": "1e-19", "user": ""}]}',
     ["limits[0].user: expected a username",
      "limits[0].max_position: cannot be negative",
      "limits[0].max_open_orders: must be a whole number (it counts orders)",
      "limits[0].price_band: expected a number or \"none\"",
      "limits[0].daily_loss: 'lots' is not a number",
      "limits[0].concentration: at most 20 digits before the point and 18 after it"]),
    ('{"limits": [{"user": "a", "max_position": 1}, {"user": "a", "max_position": 2}]}',
     ["limits[1]: the same scope as limits[0]"]),
    ('{"limits": [{"max_position": "NaN"}]}',
     ["limits[0].max_position: 'NaN' is not a finite number"]),
    ("not json", None),
])
def test_a_bad_file_names_every_problem(text: str, problems: list[str] | None) -> None:
    with pytest.raises(LimitProposalError) as refused:
        parse_limit_proposal(text, file_format="json")
    if problems is None:
        assert refused.value.problems[0].startswith("not valid JSON: ")
    else:
        assert refused.value.problems == problems


def test_the_format_follows_the_extension() -> None:
    assert (format_of("limits.TOML"), format_of("a.b.json")) == ("toml", "json")
    with pytest.raises(LimitProposalError, match=r"expected a \.json or \.toml file"):
        format_of("limits.yaml")

"""The in-process instrument-rules cache holds only real instruments (issue 14, item 8):
every unknown symbol a client asks for used to be remembered, so requests for made-up
symbols grew the web role's memory without bound."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.orders import selectors

pytestmark = pytest.mark.django_db

LOOKUPS = 20_000


def test_unknown_symbols_answer_404_and_are_not_remembered(instruments: None) -> None:
    client = APIClient()
    for n in range(200):
        response = client.get(f"/api/market-data/prices/NOPE{n}-USDT")
        assert response.status_code == 404
    assert selectors.current_instrument_rules(symbol="BTC-USDT") is not None
    for n in range(LOOKUPS):
        assert selectors.current_instrument_rules(symbol=f"X{n}-USDT") is None
    # The structure itself: only the real instrument that was asked for.
    assert set(selectors._rules_cache) == {"BTC-USDT"}

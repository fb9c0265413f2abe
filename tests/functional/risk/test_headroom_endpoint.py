"""`GET /api/risk/headroom` on the real stack (PostgreSQL, Redis): per rule how much more the
account may buy and sell, which rule binds first, and that the answer is the decision's
own: `POST /api/risk/validate` accepts an order of the answered size and refuses one lot
more with the binding rule's code."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.processing import services as processing
from apps.risk import services as risk
from apps.risk.models import RiskAudit, RiskLimit
from tests.functional.orders.conftest import limit_order

pytestmark = pytest.mark.django_db

LOT = Decimal("0.00001")


def fund(client: APIClient, **amounts: str) -> None:
    for asset, amount in amounts.items():
        processing.deposit(user_id=client.user.pk, asset=asset,  # type: ignore[attr-defined]
                           amount=Decimal(amount), reference=f"fund-{uuid.uuid4().hex[:8]}")


def decision(client: APIClient, side: str, quantity: Decimal) -> dict[str, object]:
    response = client.post("/api/risk/validate", limit_order(
        side=side, quantity=f"{quantity:f}", price="50000.00"), format="json")
    assert response.status_code == 200, response.json()
    return response.json()  # type: ignore[no-any-return]


def test_headroom_per_rule_and_the_binding_one_agree_with_the_decision(
        alice: APIClient) -> None:
    fund(alice, USDT="1000", BTC="0.5")
    risk.set_limits(actor_id=None, user_id=None, symbol="BTC-USDT",
                    values={"max_position": Decimal("0.3"),
                            "max_order_notional": Decimal("20000")})
    response = alice.get("/api/risk/headroom", {"symbol": "BTC-USDT", "price": "50000"})
    assert response.status_code == 200, response.json()
    body = response.json()
    rules = {rule["rule"]: rule for rule in body["rules"]}
    assert list(rules) == ["kill_switch", "symbol_halted", "order_size", "price_band",
                           "position_limit", "concentration", "daily_loss", "velocity",
                           "insufficient_funds"]
    assert rules["order_size"]["buy"] == {"base": "0.4", "quote": "20000", "min_base": None}
    assert rules["position_limit"]["sell"]["base"] == "0.3"
    assert rules["kill_switch"]["buy"]["base"] is None
    # 1000 USDT buys 1000 / (50000 x 1.001) BTC, on the lot
    assert body["buy"]["binding"] == "insufficient_funds"
    assert body["buy"]["base"] == "0.01998"
    assert (body["sell"]["binding"], body["sell"]["base"], body["sell"]["quote"]) \
        == ("position_limit", "0.3", "15000")
    for side in ("buy", "sell"):
        most = Decimal(body[side]["base"])
        assert decision(alice, side, most)["accepted"] is True
        beyond = decision(alice, side, most + LOT)
        assert (beyond["accepted"], beyond["code"]) == (False, body[side]["binding"])


def test_a_kill_switch_leaves_no_room(alice: APIClient) -> None:
    fund(alice, USDT="1000")
    risk.engage_kill_switch(actor_id=None, user_id=alice.user.pk,  # type: ignore[attr-defined]
                            symbol="", reason="test")
    body = alice.get("/api/risk/headroom", {"symbol": "BTC-USDT", "price": "50000"}).json()
    assert (body["buy"]["base"], body["buy"]["binding"]) == ("0", "kill_switch")
    assert (body["sell"]["base"], body["sell"]["binding"]) == ("0", "kill_switch")


@pytest.mark.parametrize(("query", "field", "code"), [
    ({}, "symbol", "required"),
    ({"symbol": "NOPE-USDT", "price": "1"}, "symbol", "unknown_symbol"),
    ({"symbol": "BTC-USDT", "price": "abc"}, "price", "invalid"),
    ({"symbol": "BTC-USDT", "price": "-1"}, "price", "out_of_range"),
    ({"symbol": "BTC-USDT"}, "price", "required"),  # no reference price yet
    ({"symbol": "BTC-USDT", "price": "1", "user": "x"}, "user", "invalid"),
    ({"symbol": "BTC-USDT", "price": "1", "user": "\u00b2"}, "user", "invalid"),  # a digit
    ({"symbol": "BTC/USDT", "price": "1"}, "symbol", "invalid"),
    # PostgreSQL cannot hold a NUL: refused before any view (oms.api.query_guard)
    ({"symbol": "BTC\x00USDT", "price": "1"}, "symbol", "invalid_character"),
])
def test_bad_questions_are_400_and_change_nothing(alice: APIClient, query: dict[str, str],
                                                  field: str, code: str) -> None:
    response = alice.get("/api/risk/headroom", query)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, code)
    assert not RiskLimit.objects.exists()
    assert not RiskAudit.objects.exists()


def test_a_trader_may_not_ask_about_another_account(alice: APIClient, bob: APIClient,
                                                    ops: APIClient) -> None:
    fund(bob, USDT="500")
    bob_id = bob.user.pk  # type: ignore[attr-defined]
    refused = alice.get("/api/risk/headroom", {"symbol": "BTC-USDT", "price": "100",
                                               "user": bob_id})
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "not_allowed")
    answered = ops.get("/api/risk/headroom", {"symbol": "BTC-USDT", "price": "100",
                                              "user": bob_id})
    assert answered.status_code == 200
    assert answered.json()["user_id"] == bob_id
    assert answered.json()["buy"]["binding"] == "insufficient_funds"

"""`manage.py replay --risk-config FILE` on a venue of its own: a recorded flow (orders
through the web role, decided by a real processor) replayed under proposed limits names
exactly the orders the proposal would have rejected (a tighter order notional for one
account) and the one it would have let through (a lifted quantity limit), beside the live
decisions, and leaves the live database as it was. A bad file is refused before anything
runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.faults.conftest import PRICE, SYMBOL, Venue, wait_until

pytestmark = pytest.mark.faults

PROPOSAL = """
[[limits]]              # taker: no order above 1,000 USDT in BTC-USDT
user = "taker"
symbol = "BTC-USDT"
max_order_notional = "1000"

[[limits]]              # maker: the live quantity limit lifted
user = "maker"
max_order_quantity = "none"
"""
# (who, client order id, side, quantity); every order at PRICE (100).
FLOW = [("maker", "m-60", "sell", "60"),  # above the maker's live max_order_quantity 50
        ("maker", "m-40", "sell", "40"),
        ("taker", "t-5", "buy", "5"),  # notional 500
        ("taker", "t-20", "buy", "20"),  # 2,000
        ("taker", "t-12", "buy", "12")]  # 1,200
# What must not change: orders, limits, balances; and no replay database left behind.
LIVE_STATE = ["SELECT id, status, filled_quantity, reason_code FROM orders_order ORDER BY id",
              "SELECT * FROM risk_risklimit ORDER BY id",
              "SELECT id, available, reserved FROM processing_ledgeraccount ORDER BY id",
              "SELECT datname FROM pg_database WHERE datname LIKE '%replay%'"]


def live_state(venue: Venue) -> list[list[tuple[object, ...]]]:
    return [venue.query(sql) for sql in LIVE_STATE]


def record_flow(venue: Venue) -> None:
    assert venue.manage("set_limits", "--user", "maker", "max_order_quantity=50").returncode == 0
    venue.start("run_consumer", "processor")
    web = venue.start_web()
    tokens = {name: venue.token(name) for name in ("maker", "taker")}
    for who, client_order_id, side, quantity in FLOW:
        response = requests.post(
            f"{web.url}/api/orders", timeout=30,
            headers={"Authorization": f"Token {tokens[who]}"},
            json={"symbol": SYMBOL, "side": side, "type": "limit", "quantity": quantity,
                  "price": PRICE, "client_order_id": client_order_id})
        assert response.status_code == 202, response.text
    wait_until(lambda: venue.scalar(
        "SELECT count(*) FROM orders_order WHERE status <> 'NEW'") == len(FLOW),
        seconds=60, what="the processor to decide every order")
    venue.stop_roles()


def test_the_report_names_exactly_the_orders_the_proposal_decides_otherwise(
        venue: Venue, tmp_path: Path) -> None:
    record_flow(venue)
    assert venue.query("SELECT client_order_id, reason_code FROM orders_order "
                       "WHERE status = 'REJECTED'") == [("m-60", "order_size")]
    before = live_state(venue)
    proposal, report_path = tmp_path / "limits.toml", tmp_path / "report.json"
    proposal.write_text(PROPOSAL)

    result = venue.manage("replay", "--risk-config", str(proposal),
                          "--report-json", str(report_path))

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_path.read_text())
    rejected = {o["client_order_id"]: o for o in report["newly_rejected"]}
    assert sorted(rejected) == ["t-12", "t-20"]
    for outcome in rejected.values():
        assert (outcome["user"], outcome["symbol"]) == ("taker", SYMBOL)
        assert outcome["live_status"] in ("FILLED", "SETTLED", "PARTIALLY_FILLED", "ACCEPTED")
        assert (outcome["proposed_status"], outcome["proposed_reason"]) == ("REJECTED",
                                                                            "order_size")
        assert "1000" in outcome["proposed_message"], outcome
    [accepted] = report["newly_accepted"]
    assert (accepted["client_order_id"], accepted["user"]) == ("m-60", "maker")
    assert (accepted["live_status"], accepted["live_reason"]) == ("REJECTED", "order_size")
    assert (report["compared"], report["rejected_live"], report["rejected_proposed"]) == (5, 1, 2)
    for client_order_id in ("t-20", "t-12", "m-60"):
        assert client_order_id in result.stdout
    assert "2 orders accepted live, rejected by the proposal:" in result.stdout
    assert live_state(venue) == before  # the live database as it was, no replay database


BAD_FILES = [('[[limits]]\nuser = "nobody"\nmax_position = "1"\n', "no user 'nobody'"),
             ('[[limits]]\nsymbol = "DOGE-USDT"\nmax_position = "1"\n',
              "no instrument 'DOGE-USDT'"),
             ('[[limits]]\nmax_postion = "1"\n', "limits[0]: unknown limits ['max_postion']")]


def test_a_bad_file_is_refused_before_anything_runs(venue: Venue, tmp_path: Path) -> None:
    before = live_state(venue)
    proposal = tmp_path / "limits.toml"
    for text, problem in BAD_FILES:
        proposal.write_text(text)
        result = venue.manage("replay", "--risk-config", str(proposal))
        assert result.returncode != 0
        assert problem in result.stderr
    assert live_state(venue) == before

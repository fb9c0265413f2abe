"""The demo market maker's rules without the stack: the ladder around a reference price,
its client order ids, when it is replaced, and how the bot carries out a plan."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from apps.marketdata.domain.quoting import (
    InstrumentTerms,
    Ladder,
    Quote,
    QuotingParams,
    WorkingOrder,
    client_order_id,
    is_quote_of,
    plan,
    quotes,
)
from apps.marketdata.market_maker import ApiError, MarketMaker
from oms.terms import Side

BTC = InstrumentTerms(tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"),
                      min_quantity=Decimal("0.00001"), min_notional=Decimal("10"))
SOL = InstrumentTerms(tick_size=Decimal("0.001"), lot_size=Decimal("0.01"),
                      min_quantity=Decimal("0.01"), min_notional=Decimal("5"))
PARAMS = QuotingParams(levels=3, spread_bps=Decimal(20), step_bps=Decimal(10),
                       level_notional=Decimal(5000), requote_bps=Decimal(10),
                       refresh_seconds=5.0)
API_CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # PlaceOrderSerializer's


def sides(ladder: list[Quote]) -> tuple[list[Quote], list[Quote]]:
    return ([quote for quote in ladder if quote.side == Side.BUY],
            [quote for quote in ladder if quote.side == Side.SELL])


def test_the_ladder_straddles_the_reference_by_the_spread_and_steps() -> None:
    bids, asks = sides(quotes(Decimal(60000), BTC, PARAMS))
    assert [quote.price for quote in bids] == [Decimal("59940"), Decimal("59880"),
                                               Decimal("59820")]
    assert [quote.price for quote in asks] == [Decimal("60060"), Decimal("60120"),
                                               Decimal("60180")]
    assert [quote.level for quote in bids] == [quote.level for quote in asks] == [0, 1, 2]
    for quote in bids + asks:
        assert quote.quantity % BTC.lot_size == 0
        assert Decimal(4990) < quote.price * quote.quantity <= Decimal(5000)


def test_prices_round_away_from_the_reference_onto_the_tick() -> None:
    bids, asks = sides(quotes(Decimal("150.123"), SOL, PARAMS))
    assert bids[0].price == Decimal("149.972")  # 149.972877 down
    assert asks[0].price == Decimal("150.274")  # 150.273123 up
    for quote in bids + asks:
        assert quote.price % SOL.tick_size == 0
        assert quote.quantity % SOL.lot_size == 0


def test_levels_stay_a_tick_apart_when_the_steps_are_finer_than_the_tick() -> None:
    fine = QuotingParams(levels=3, spread_bps=Decimal(0), step_bps=Decimal("0.01"),
                         level_notional=Decimal(100), requote_bps=Decimal(1),
                         refresh_seconds=1.0)
    bids, asks = sides(quotes(Decimal(100), BTC, fine))
    assert [quote.price for quote in bids] == [Decimal("100"), Decimal("99.99"),
                                               Decimal("99.98")]
    assert [quote.price for quote in asks] == [Decimal("100.01"), Decimal("100.02"),
                                               Decimal("100.03")]


def test_small_levels_are_raised_to_the_minimum_notional() -> None:
    small = QuotingParams(levels=1, spread_bps=Decimal(20), step_bps=Decimal(10),
                          level_notional=Decimal(1), requote_bps=Decimal(10),
                          refresh_seconds=5.0)
    for quote in quotes(Decimal(60000), BTC, small):
        assert quote.price * quote.quantity >= BTC.min_notional
        assert quote.price * (quote.quantity - BTC.lot_size) < BTC.min_notional


def test_bids_that_would_not_be_positive_are_left_out() -> None:
    wide = QuotingParams(levels=3, spread_bps=Decimal(10000), step_bps=Decimal(5000),
                         level_notional=Decimal(100), requote_bps=Decimal(10),
                         refresh_seconds=5.0)
    bids, asks = sides(quotes(Decimal(100), BTC, wide))
    assert [quote.price for quote in bids] == [Decimal(50)]
    assert len(asks) == 3


def test_client_order_ids_name_the_symbol_and_fit_the_api() -> None:
    quote = Quote(Side.BUY, 2, Decimal(1), Decimal(1))
    identifier = client_order_id("BTC-USDT", format(2**63, "x"), quote)
    assert API_CLIENT_ORDER_ID.match(identifier)
    assert is_quote_of("BTC-USDT", identifier)
    assert not is_quote_of("ETH-USDT", identifier)
    assert not is_quote_of("BTC-USDT", "my-own-order-1")


def working_of(ladder: Ladder) -> list[WorkingOrder]:
    return [WorkingOrder(f"order-{cid}", cid) for cid in sorted(ladder.client_order_ids)]


def test_the_first_step_places_a_ladder_and_cancels_what_an_earlier_run_left() -> None:
    leftover = WorkingOrder("old-1", "mm:BTC-USDT:g0:b0")
    manual = WorkingOrder("manual-1", "hedge-7")
    decided = plan(symbol="BTC-USDT", reference=Decimal(60000), now=100.0, generation="g1",
                   working=[leftover, manual], ladder=None, terms=BTC, params=PARAMS)
    assert decided.cancel == ("old-1",)
    assert [cid for cid, _ in decided.place] == [
        "mm:BTC-USDT:g1:b0", "mm:BTC-USDT:g1:b1", "mm:BTC-USDT:g1:b2",
        "mm:BTC-USDT:g1:s0", "mm:BTC-USDT:g1:s1", "mm:BTC-USDT:g1:s2"]
    assert decided.ladder == Ladder(Decimal(60000), 100.0,
                                    frozenset(cid for cid, _ in decided.place))


def test_a_ladder_in_place_is_left_alone_while_the_reference_holds() -> None:
    first = plan(symbol="BTC-USDT", reference=Decimal(60000), now=100.0, generation="g1",
                 working=[], ladder=None, terms=BTC, params=PARAMS).ladder
    decided = plan(symbol="BTC-USDT", reference=Decimal("60059.99"), now=200.0,
                   generation="g2", working=working_of(first), ladder=first, terms=BTC,
                   params=PARAMS)
    assert (decided.cancel, decided.place, decided.ladder) == ((), (), first)


def test_a_move_of_the_reference_replaces_the_whole_ladder() -> None:
    first = plan(symbol="BTC-USDT", reference=Decimal(60000), now=100.0, generation="g1",
                 working=[], ladder=None, terms=BTC, params=PARAMS).ladder
    working = working_of(first)
    decided = plan(symbol="BTC-USDT", reference=Decimal(60060), now=101.0, generation="g2",
                   working=working, ladder=first, terms=BTC, params=PARAMS)
    assert sorted(decided.cancel) == sorted(order.order_id for order in working)
    assert len(decided.place) == 6
    assert decided.ladder.reference == Decimal(60060)
    assert all(":g2:" in cid for cid in decided.ladder.client_order_ids)


def test_a_gone_level_is_replaced_only_after_the_refresh_time() -> None:
    first = plan(symbol="BTC-USDT", reference=Decimal(60000), now=100.0, generation="g1",
                 working=[], ladder=None, terms=BTC, params=PARAMS).ladder
    filled_one = working_of(first)[1:]
    # Just placed orders may not be listed yet: no churn inside the refresh time.
    early = plan(symbol="BTC-USDT", reference=Decimal(60000), now=104.9, generation="g2",
                 working=filled_one, ladder=first, terms=BTC, params=PARAMS)
    assert (early.cancel, early.place) == ((), ())
    late = plan(symbol="BTC-USDT", reference=Decimal(60000), now=105.0, generation="g2",
                working=filled_one, ladder=first, terms=BTC, params=PARAMS)
    assert sorted(late.cancel) == sorted(order.order_id for order in filled_one)
    assert len(late.place) == 6


class FakeApi:
    """The `OmsClient` calls the bot makes, answered from memory."""

    def __init__(self) -> None:
        self.working: list[WorkingOrder] = []
        self.cancels: list[str] = []
        self.placed: list[str] = []
        self.refused_suffix: str | None = None
        self.unreachable = False

    def instruments(self) -> dict[str, InstrumentTerms]:
        if self.unreachable:
            raise ApiError(None, "connection refused")
        return {"BTC-USDT": BTC, "ETH-USDT": BTC}

    def working_orders(self, symbol: str) -> list[WorkingOrder]:
        return [order for order in self.working if is_quote_of(symbol, order.client_order_id)]

    def place(self, *, symbol: str, client_order_id: str, side: str, price: Decimal,
              quantity: Decimal) -> None:
        if self.refused_suffix and client_order_id.endswith(self.refused_suffix):
            raise ApiError(400, "post_only_would_take")
        self.placed.append(client_order_id)

    def cancel(self, order_id: str) -> None:
        self.cancels.append(order_id)


def test_the_bot_cancels_once_skips_refused_quotes_and_symbols_without_a_price() -> None:
    api = FakeApi()
    api.working = [WorkingOrder("old-1", "mm:BTC-USDT:g0:b0")]
    api.refused_suffix = ":s0"
    references = {"BTC-USDT": Decimal(60000), "SOL-USDT": Decimal(150)}
    maker = MarketMaker(api, symbols=["BTC-USDT", "ETH-USDT", "SOL-USDT"],  # type: ignore[arg-type]
                        params=PARAMS, reference=references.get, clock=lambda: 100.0)
    maker.step()  # ETH has no reference price, SOL does not trade
    assert api.cancels == ["old-1"]
    assert [cid.rsplit(":", 1)[1] for cid in api.placed] == ["b0", "b1", "b2", "s1", "s2"]
    assert all(cid.startswith("mm:BTC-USDT:") for cid in api.placed)
    maker.step()  # the cancelled order is still listed: its cancel is not sent again
    assert api.cancels == ["old-1"]
    assert len(api.placed) == 5  # the refused level waits for the refresh time
    api.unreachable = True
    with pytest.raises(ApiError):
        maker.step()

"""Market data reads: prices, the internal order book, recent trades and candles of one
symbol. Public (no login). Views parse the query, call `apps.marketdata.selectors`, and
render; an unknown symbol is a 404 with the structured error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from apps.marketdata import selectors
from apps.marketdata.api.serializers import (
    CandleQuery,
    CandleSerializer,
    DepthQuery,
    LimitQuery,
    OrderBookSerializer,
    PriceSerializer,
    TradeSerializer,
)
from apps.marketdata.domain.candles import Interval
from apps.orders.selectors import current_instrument_rules

# The book's `as_of`, rendered as every other time of the API (ccxt requires one per book).
AS_OF = serializers.DateTimeField()


def known_symbol(symbol: str) -> str:
    if current_instrument_rules(symbol=symbol) is None:
        raise NotFound(f"unknown symbol {symbol}", code="unknown_symbol")
    return symbol


def parsed(query: type[Serializer], request: Request) -> dict[str, Any]:  # type: ignore[type-arg]
    serializer = query(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class MarketDataView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []


class PriceView(MarketDataView):
    @extend_schema(responses=PriceSerializer,
                   summary="Prices and the 24 h change, high, low and volume of a symbol")
    def get(self, request: Request, symbol: str) -> Response:
        # One Redis read: the price copy the marketdata role caches carries the last trade and
        # the day's figures. Without it (the role is not running), the database's.
        known_symbol(symbol)
        tick = selectors.price_tick(symbol=symbol) or {}
        if all(field in tick for field in selectors.DAY_FIELDS):
            return Response({
                "symbol": symbol, "last_trade_price": tick["last_trade_price"],
                "best_bid": tick.get("best_bid"), "best_ask": tick.get("best_ask"),
                "reference_price": tick.get("reference_price"), "source": tick.get("source"),
                "change_24h": tick["change_24h"],
                "change_percent_24h": tick["change_percent_24h"],
                "volume_24h": tick["volume_24h"], "high_24h": tick["high_24h"],
                "low_24h": tick["low_24h"],
            })
        trade = selectors.last_trade(symbol=symbol)
        last_price = trade.price if trade else None
        day = selectors.day_summary(symbol=symbol, now=datetime.now(UTC), last_price=last_price)
        return Response(PriceSerializer({
            "symbol": symbol, "last_trade_price": last_price,
            "best_bid": tick.get("best_bid"), "best_ask": tick.get("best_ask"),
            "reference_price": tick.get("reference_price"), "source": tick.get("source"),
            "change_24h": day.change, "change_percent_24h": day.change_percent,
            "volume_24h": day.volume, "high_24h": day.high, "low_24h": day.low,
        }).data)


class OrderBookView(MarketDataView):
    @extend_schema(parameters=[DepthQuery], responses=OrderBookSerializer,
                   summary="Aggregated L2 of the internal book, with its sequence")
    def get(self, request: Request, symbol: str) -> Response:
        # One Redis read; the cached levels are already the API's strings.
        known_symbol(symbol)
        depth = parsed(DepthQuery, request)["depth"]
        book = selectors.order_book_levels(symbol=symbol, depth=depth)
        return Response({
            "symbol": symbol, "sequence": book["sequence"] if book else None,
            "as_of": AS_OF.to_representation(datetime.now(UTC)),
            "bids": book["bids"] if book else [], "asks": book["asks"] if book else [],
        })


class TradesView(MarketDataView):
    @extend_schema(parameters=[LimitQuery], responses=TradeSerializer(many=True),
                   summary="Recent trades of the internal venue, newest first")
    def get(self, request: Request, symbol: str) -> Response:
        known_symbol(symbol)
        limit = parsed(LimitQuery, request)["limit"]
        trades = selectors.recent_trades(symbol=symbol, limit=limit)
        return Response(TradeSerializer(trades, many=True).data)


class CandlesView(MarketDataView):
    @extend_schema(parameters=[CandleQuery], responses=CandleSerializer(many=True),
                   summary="Candles (1m, 5m or 1h) from the venue's trades, oldest first")
    def get(self, request: Request, symbol: str) -> Response:
        known_symbol(symbol)
        query = parsed(CandleQuery, request)
        candles = selectors.candles(symbol=symbol, interval=Interval(query["interval"]),
                                    limit=query["limit"])
        return Response(CandleSerializer(candles, many=True).data)


def asyncapi_document(request: HttpRequest) -> HttpResponse:
    """The live streams' protocol (`docs/asyncapi.yaml`), beside the OpenAPI schema: the
    WebSocket endpoints are not REST, so drf-spectacular cannot describe them."""
    document = (settings.BASE_DIR / "docs" / "asyncapi.yaml").read_text()
    return HttpResponse(document, content_type="application/yaml")

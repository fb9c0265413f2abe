"""Routes of the market data API, mounted under `/api/`: `/api/market-data/...`."""

from django.urls import path

from apps.marketdata.api.views import (
    CandlesView,
    OrderBookView,
    PriceView,
    TradesView,
    asyncapi_document,
)

urlpatterns = [
    path("asyncapi.yaml", asyncapi_document, name="asyncapi"),
    path("market-data/prices/<str:symbol>", PriceView.as_view(), name="market-data-price"),
    path("market-data/orderbook/<str:symbol>", OrderBookView.as_view(),
         name="market-data-orderbook"),
    path("market-data/trades/<str:symbol>", TradesView.as_view(), name="market-data-trades"),
    path("market-data/candles/<str:symbol>", CandlesView.as_view(),
         name="market-data-candles"),
]

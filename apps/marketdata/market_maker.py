"""The demo market maker: liquidity for `make up`, so a trader's order has something to
trade against. It behaves like any outside client: it has its own funded account and API
token, and it quotes only through the public REST API over HTTP (`OMS_API_URL`), with an
`Idempotency-Key` per placement, so what it exercises is what a real trader would.

Each step, per symbol: read the reference price (`apps.marketdata.selectors`, the Redis
copy the marketdata role keeps), list the account's working orders, and carry out the plan
of `domain.quoting` (place a fresh ladder, then cancel the stale quotes). Without a reference price
(the marketdata role is not running yet) a symbol is left alone. When the bot stops, it
cancels every working order of its account."""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from rest_framework.authtoken.models import Token

from apps.marketdata import selectors
from apps.marketdata.domain.quoting import (
    InstrumentTerms,
    Ladder,
    QuotingParams,
    WorkingOrder,
    plan,
)
from oms.money import format_amount
from oms.terms import OrderStatus, OrderType, Side, TimeInForce

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({429, 503})  # nothing was done; the same request may retry


class ApiError(RuntimeError):
    """A request the API refused (`status`) or that never got an answer (`status` None)."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(f"{status or 'no answer'}: {detail[:300]}")
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT_STATUSES


class OmsClient:
    """The few calls of the public API the bot makes, as a trader with `token`. A request
    that got no answer, a 429 or a 503 is sent again (up to `attempts` times) unchanged,
    which is safe: placements carry their `Idempotency-Key`, cancels are idempotent."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0,
                 attempts: int = 3) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"OMS_API_URL must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.attempts = attempts

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None, *,
             idempotency_key: str | None = None) -> Any:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self.base_url + path, data=data,  # noqa: S310 - scheme checked in __init__
                                         headers=headers, method=method)
        for attempt in range(1, self.attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked in __init__
                    return json.loads(response.read() or b"null")
            except urllib.error.HTTPError as exc:
                error = ApiError(exc.code, exc.read().decode(errors="replace"))
                retry_after = min(float(exc.headers.get("Retry-After") or 0.5), 2.0)
            except OSError as exc:  # refused, reset, timed out
                error = ApiError(None, str(exc))
                retry_after = 0.5
            if not error.transient or attempt == self.attempts:
                raise error
            time.sleep(retry_after)
        raise AssertionError("unreachable: the last attempt raises")

    def instruments(self) -> dict[str, InstrumentTerms]:
        """The terms of every instrument that trades now."""
        return {row["symbol"]: InstrumentTerms(
                    tick_size=Decimal(row["tick_size"]), lot_size=Decimal(row["lot_size"]),
                    min_quantity=Decimal(row["min_quantity"]),
                    min_notional=Decimal(row["min_notional"]))
                for row in self.call("GET", "/api/instruments") if row["trading"]}

    def working_orders(self, symbol: str) -> list[WorkingOrder]:
        """The account's accepted and partly filled orders of `symbol` (one page of 500:
        far more than a ladder, and what is left over goes at the next step)."""
        query = urllib.parse.urlencode([("status", OrderStatus.ACCEPTED),
                                        ("status", OrderStatus.PARTIALLY_FILLED),
                                        ("symbol", symbol), ("page_size", "500")])
        page = self.call("GET", f"/api/orders?{query}")
        return [WorkingOrder(order_id=row["id"], client_order_id=row["client_order_id"])
                for row in page["results"]]

    def place(self, *, symbol: str, client_order_id: str, side: Side, price: Decimal,
              quantity: Decimal) -> None:
        self.call("POST", "/api/orders", {
            "symbol": symbol, "side": side, "type": OrderType.LIMIT,
            "time_in_force": TimeInForce.GTC, "post_only": True, "price": format_amount(price),
            "quantity": format_amount(quantity), "client_order_id": client_order_id,
        }, idempotency_key=client_order_id)

    def cancel(self, order_id: str) -> None:
        """Request a cancel; an order already final (409) needs none."""
        try:
            self.call("POST", f"/api/orders/{order_id}/cancel")
        except ApiError as exc:
            if exc.status != 409:
                raise

    def cancel_all(self) -> int:
        requested: int = self.call("POST", "/api/orders/cancel-all", {})["requested"]
        return requested


def ensure_account(*, username: str, funds: Mapping[str, str], funding_reference: str) -> str:
    """Create the bot's trader if needed, fund it once (the fixed reference makes a second
    deposit a no-op), and return its API token."""
    fund_args = [arg for asset, amount in funds.items() for arg in ("--fund", f"{asset}={amount}")]
    call_command("create_trader", username, *fund_args, "--funding-reference",
                 funding_reference, stdout=io.StringIO())
    return str(Token.objects.get(user__username=username).key)


def quoting_params(config: Mapping[str, Any]) -> QuotingParams:
    """The ladder's shape from `settings.MARKETDATA_MARKET_MAKER`."""
    return QuotingParams(
        levels=int(config["levels"]), spread_bps=Decimal(str(config["spread_bps"])),
        step_bps=Decimal(str(config["step_bps"])),
        level_notional=Decimal(str(config["level_notional"])),
        requote_bps=Decimal(str(config["requote_bps"])),
        refresh_seconds=float(config["refresh_seconds"]))


def _reference_price(symbol: str) -> Decimal | None:
    return selectors.reference_price(symbol=symbol)


class MarketMaker:
    def __init__(self, client: OmsClient, *, symbols: Iterable[str], params: QuotingParams,
                 reference: Callable[[str], Decimal | None] = _reference_price,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.symbols = list(symbols)
        self.params = params
        self.reference = reference
        self.clock = clock
        self.ladders: dict[str, Ladder] = {}
        self.cancelling: set[str] = set()  # cancels requested, until the orders stop working

    def step(self) -> None:
        """Quote every configured symbol that trades. Raises `ApiError` when the API is
        unreachable; a single order it refuses is logged and its level quoted again later."""
        terms = self.client.instruments()
        for symbol in self.symbols:
            if symbol in terms:
                self._quote(symbol, terms[symbol])

    def _quote(self, symbol: str, terms: InstrumentTerms) -> None:
        reference = self.reference(symbol)
        if reference is None:
            return
        working = self.client.working_orders(symbol)
        self.cancelling &= {order.order_id for order in working}
        decided = plan(symbol=symbol, reference=reference, now=self.clock(),
                       generation=format(time.time_ns() // 1000, "x"), working=working,
                       ladder=self.ladders.get(symbol), terms=terms, params=self.params)
        self.ladders[symbol] = decided.ladder
        # The new ladder first, then the old one goes: the book never stands empty while
        # the bot requotes (a new quote that would cross an old one is refused as post-only
        # and placed again after `refresh_seconds`).
        for client_order_id, quote in decided.place:
            try:
                self.client.place(symbol=symbol, client_order_id=client_order_id,
                                  side=quote.side, price=quote.price, quantity=quote.quantity)
            except ApiError as exc:
                if exc.transient:
                    raise
                logger.warning("%s: quote %s refused: %s", symbol, client_order_id, exc)
        for order_id in decided.cancel:
            if order_id not in self.cancelling:
                self.client.cancel(order_id)
                self.cancelling.add(order_id)
        if not decided.place:
            return
        prices = [quote.price for _, quote in decided.place]
        logger.info("%s: quoting %d orders from %s to %s around %s", symbol, len(prices),
                    format_amount(min(prices)), format_amount(max(prices)),
                    format_amount(reference))

    def withdraw(self) -> None:
        """Cancel every working order of the account (when the bot stops)."""
        logger.info("cancelling %d working orders", self.client.cancel_all())

"""Order entry and order reads. Views parse, call `apps.orders.services` or `selectors`, and
render; the rules live in the domain and the services."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.orders import selectors, services
from apps.orders.api import admission, idempotency
from apps.orders.api.filters import FillFilterSet, OrderFilterSet, pending_matches
from apps.orders.api.order_request import OrderRequest
from apps.orders.api.order_request import parse as parse_order_request
from apps.orders.api.order_response import represent
from apps.orders.api.serializers import (
    AccountFillSerializer,
    AmendOrderSerializer,
    CancelAllResultSerializer,
    CancelAllSerializer,
    FillSerializer,
    InstrumentSerializer,
    OrderSerializer,
    PlaceOrderSerializer,
)
from apps.orders.domain.rules import Violation
from apps.orders.models import Fill, Order
from oms.api import idempotency as idempotency_keys
from oms.api.errors import Conflict, FieldErrors, ServiceUnavailable
from oms.api.idempotency import idempotent
from oms.api.pagination import StrictCursorPagination
from oms.api.throttling import RateWindow, UserAndClientIpThrottle, rate_windows, retry_after
from oms.auth.roles import sees_everything

logger = logging.getLogger(__name__)

# Errors specific to order entry; the common ones (400, 401, 403, 404, 429, 503) are added
# to every operation by oms.api.schema.
ERROR_RESPONSES = {
    409: OpenApiResponse(description="Order already final, duplicate client_order_id, or "
                                     "the same Idempotency-Key in flight."),
    422: OpenApiResponse(description="Idempotency-Key reused with a different request."),
}


class OrdersThrottle(UserAndClientIpThrottle):
    """Per user and per client address, counted in one Redis round trip."""

    scope = "orders-user"
    ip_scope = "orders-ip"

    def allow_request(self, request: Request, view: APIView) -> bool:
        # Order entry counts in its admission script, with its claims (one round trip).
        if getattr(view, "action", None) == "create":
            return True
        return super().allow_request(request, view)


class NewestFirst(StrictCursorPagination):
    ordering = ("-created_at", "-id")


def violations_error(violations: list[Violation]) -> FieldErrors:
    return FieldErrors([(v.field, v.code, v.message) for v in violations])


def unavailable(exc: services.OrderEntryUnavailable | redis.RedisError) -> ServiceUnavailable:
    """503 with `Retry-After`: the open breaker's remaining time, else a short default."""
    entry = (exc if isinstance(exc, services.OrderEntryUnavailable)
             else services.OrderEntryUnavailable.caused_by("redis", exc))
    if isinstance(entry, services.OrderOutcomeUnknown):
        return ServiceUnavailable(
            "Kafka did not confirm the order in time: it may have been placed. Retry with the "
            "same Idempotency-Key to learn its outcome (without a key, look for it in "
            "GET /api/orders before placing it again)",
            code="order_outcome_unknown", retry_after=entry.retry_after)
    return ServiceUnavailable(f"{entry.dependency} is unavailable; nothing was done, retry later",
                              code=f"{entry.dependency}_unavailable", retry_after=entry.retry_after)


class InstrumentViewSet(viewsets.ViewSet):
    """Tradable instruments and their rules (public)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses=InstrumentSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(InstrumentSerializer(selectors.all_instrument_rules(), many=True).data)


class FillViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """`GET /api/fills`: your fills across all your orders (what trading clients call "my
    trades"), newest first in cursor pages, filtered by symbol, side, order and time."""

    serializer_class = AccountFillSerializer
    filterset_class = FillFilterSet
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Fill]:
        return selectors.fills_visible_to(user_id=self.request.user.pk)

    @extend_schema(responses={200: AccountFillSerializer(many=True)})
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AccountFillSerializer(page or [], many=True).data)


class OrderViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """Place, list, read, amend and cancel orders. Traders see only their own orders (another
    user's order is 404); operators see and may cancel all."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    pagination_class = NewestFirst
    throttle_classes = [OrdersThrottle]
    # Any id reaches the view, so a malformed one is a JSON 404 like an unknown one.
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Order]:
        return selectors.orders_visible_to(user_id=self.request.user.pk,
                                           sees_all=sees_everything(self.request.user))

    def _order(self, pk: str) -> selectors.OrderView:
        try:
            order_id = uuid.UUID(pk)
        except ValueError:
            raise NotFound("no such order") from None
        order = selectors.order_visible_to(order_id=order_id, user_id=self.request.user.pk,
                                           sees_all=sees_everything(self.request.user))
        if order is None:
            raise NotFound("no such order")
        return order

    @extend_schema(request=PlaceOrderSerializer, parameters=[idempotency_keys.HEADER_PARAMETER],
                   responses={202: OrderSerializer, **ERROR_RESPONSES})
    def create(self, request: Request) -> Response:
        # Parse and check the order (no I/O), admit it in one Redis round trip (rate limits, the
        # key's and the client order id's claims: `admission`), publish it and wait for Kafka's
        # acknowledgement, then cache it and store the response for replays in one script. A
        # request that cannot be placed is still counted, so 429 comes first, as it did when
        # DRF's throttle ran before the view.
        user_id = request.user.pk
        key = request.headers.get("Idempotency-Key")
        windows = rate_windows(OrdersThrottle().counted(request))
        try:
            if key is not None and not idempotency_keys.KEY_PATTERN.match(key):
                raise FieldErrors([("Idempotency-Key", "invalid",
                                    "1 to 255 printable ASCII characters without spaces")])
            order_request = parse_order_request(request.data)
        except APIException:
            self._count_refused(windows)
            raise
        now = datetime.now(UTC)
        order_id = services.order_id_for(user_id=user_id, idempotency_key=key)
        fingerprint = ("" if key is None
                       else idempotency.fingerprint("POST", request.path, request.data))
        record_key = None if key is None else idempotency.redis_key(user_id=user_id, key=key)
        rejected: services.OrderRejected | None = None
        try:
            order = services.new_order(
                user_id=user_id, order_id=order_id, now=now, terms=order_request.terms,
                client_order_id=order_request.client_order_id)
        except services.OrderRejected as exc:
            rejected = exc
        try:
            if rejected is not None:
                admitted = admission.peek(windows, record_key=record_key)
            else:
                admitted = admission.claim(
                    windows, record_key=record_key,
                    in_flight="" if record_key is None
                    else idempotency.in_flight_record(fingerprint, now=now),
                    record_seconds=idempotency.KEY_SECONDS, order_id=str(order_id),
                    claim_key=services.client_order_key(
                        user_id=user_id, client_order_id=order.client_order_id),
                    claim_seconds=services.CLIENT_ORDER_ID_SECONDS)
        except redis.RedisError as exc:
            raise unavailable(exc) from exc
        if admitted.verdict is admission.Verdict.THROTTLED:
            raise Throttled(wait=retry_after(admitted.wait_seconds))
        if admitted.verdict is admission.Verdict.STORED:
            assert key is not None  # noqa: S101 - only a key has a record
            claim = idempotency.judge(admitted.stored, request_fingerprint=fingerprint,
                                      now=now)
            return self._answer_claimed(order_request, claim, user_id=user_id, key=key,
                                        fingerprint=fingerprint)
        if rejected is not None:
            raise violations_error(rejected.violations) from rejected
        if admitted.verdict is admission.Verdict.DUPLICATE:
            raise Conflict(f"client_order_id {order.client_order_id} is already used",
                           code="duplicate_client_order_id")
        body = represent(order)
        # The response stored for replays goes with the entry cache: the same round trip.
        stored_response = None if record_key is None else services.AlsoSet(
            record_key, idempotency.done_record(fingerprint, status=status.HTTP_202_ACCEPTED,
                                                body=body),
            idempotency.KEY_SECONDS)
        try:
            services.publish_new_order(order, keyed=key is not None, also_set=stored_response)
        except BaseException as exc:
            if key is not None:
                if isinstance(exc, services.OrderOutcomeUnknown):
                    self._keep_unknown(user_id=user_id, key=key, fingerprint=fingerprint,
                                       submitted_at=now)
                else:
                    idempotency.release(user_id=user_id, key=key)
            if isinstance(exc, services.OrderEntryUnavailable):
                raise unavailable(exc) from exc
            raise
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _count_refused(windows: list[RateWindow]) -> None:
        """Count a malformed request: 429 when over a limit, else its own error. Counting
        is best effort here, as in DRF's throttles: without Redis the 400 stands."""
        try:
            counted = admission.count(windows)
        except redis.RedisError as exc:
            logger.warning("order entry: a refused request not counted: %s", exc)
            return
        if counted.verdict is admission.Verdict.THROTTLED:
            raise Throttled(wait=retry_after(counted.wait_seconds))

    def _answer_claimed(self, order_request: OrderRequest, claim: idempotency.Claim, *,
                        user_id: int, key: str, fingerprint: str) -> Response:
        """A key another request has used: replay its response, refuse another body (422)
        or a request while it is in flight (409), or resolve an outcome it left unknown.
        The rare paths, in as many round trips as they need."""
        if claim.outcome is idempotency.Outcome.REPLAY:
            return idempotency_keys.replay(claim)
        if claim.outcome is idempotency.Outcome.MISMATCH:
            raise idempotency_keys.mismatch()
        resolving = claim.outcome is idempotency.Outcome.RESOLVE
        known = self._known_order(user_id=user_id, key=key, in_database=resolving)
        if known is not None:
            response = Response(represent(known),
                                status=status.HTTP_202_ACCEPTED,
                                headers={"Idempotent-Replayed": "true"})
            self._store(user_id=user_id, key=key, fingerprint=fingerprint, response=response)
            return response
        if not resolving:
            raise idempotency_keys.in_flight()
        submitted_at = claim.submitted_at or datetime.now(UTC)
        try:
            idempotency.resume(user_id=user_id, key=key, request_fingerprint=fingerprint,
                               submitted_at=submitted_at, now=datetime.now(UTC))
            response = self._place(order_request, user_id=user_id, key=key, now=submitted_at)
        except BaseException as exc:
            self._keep_unknown(user_id=user_id, key=key, fingerprint=fingerprint,
                               submitted_at=submitted_at)
            if isinstance(exc, services.OrderEntryUnavailable | redis.RedisError):
                raise unavailable(exc) from exc
            raise
        self._store(user_id=user_id, key=key, fingerprint=fingerprint, response=response)
        return response

    def _known_order(self, *, user_id: int, key: str, in_database: bool
                     ) -> selectors.OrderView | None:
        """The order placed under an Idempotency-Key whose first request did not store its
        response: in the entry cache once its publish was acknowledged, in the database once
        the processor recorded it (looked up only when resolving an unknown outcome)."""
        order_id = services.order_id_for(user_id=user_id, idempotency_key=key)
        if in_database:
            return selectors.order_visible_to(order_id=order_id, user_id=user_id,
                                              sees_all=False)
        view = selectors.cached_order(order_id=order_id)
        return view if view is not None and view.user_id == user_id else None

    @staticmethod
    def _keep_unknown(*, user_id: int, key: str, fingerprint: str,
                      submitted_at: datetime) -> None:
        """The order may have been published: the key must not be freed for another order."""
        try:
            idempotency.mark_unknown(user_id=user_id, key=key, request_fingerprint=fingerprint,
                                     submitted_at=submitted_at)
        except redis.RedisError as exc:
            # Still in flight: a retry resolves it once IN_FLIGHT_SECONDS have passed.
            logger.warning("Idempotency-Key of order %s left in flight: %s",
                           services.order_id_for(user_id=user_id, idempotency_key=key), exc)

    @staticmethod
    def _store(*, user_id: int, key: str, fingerprint: str, response: Response) -> None:
        """Store the response for replays. The order is placed whatever happens here: if
        Redis fails now, the key stays in flight and a retry finds the order (cache or
        database) instead of a 409 for the key's whole day."""
        try:
            idempotency.complete(user_id=user_id, key=key, request_fingerprint=fingerprint,
                                 status=response.status_code, body=response.data)
        except redis.RedisError as exc:
            logger.warning("response to Idempotency-Key of order %s not stored: %s",
                           response.data.get("id"), exc)

    def _place(self, order_request: OrderRequest, *, user_id: int, key: str | None,
               now: datetime) -> Response:
        """Place the order; `services.OrderOutcomeUnknown` is left to the caller, which knows
        whether a key keeps the request resolvable."""
        try:
            order = services.place_order(
                user_id=user_id,
                order_id=services.order_id_for(user_id=user_id, idempotency_key=key),
                client_order_id=order_request.client_order_id,
                terms=order_request.terms, now=now, keyed=key is not None,
            )
        except services.OrderRejected as exc:
            raise violations_error(exc.violations) from exc
        except services.DuplicateClientOrderId as exc:
            raise Conflict(f"client_order_id {exc} is already used",
                           code="duplicate_client_order_id") from exc
        except services.OrderOutcomeUnknown:
            raise
        except services.OrderEntryUnavailable as exc:
            raise unavailable(exc) from exc
        return Response(represent(order),
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: OrderSerializer(many=True)})
    def list(self, request: Request) -> Response:
        blank = sorted(name for name, value in request.query_params.items() if value == "")
        if blank:
            # A blank filter would silently mean "no filter": say so instead.
            raise FieldErrors([(name, "blank", "give a value or leave the parameter out")
                               for name in blank])
        orders = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(orders)
        views = [selectors.order_view(order) for order in page or []]
        paginator = self.paginator
        if isinstance(paginator, NewestFirst) and (
                paginator.cursor_query_param not in request.query_params):
            views = self._pending(request, shown=views,
                                  limit=paginator.get_page_size(request)) + views
        return self.get_paginated_response(OrderSerializer(views, many=True).data)

    def _pending(self, request: Request, *, shown: list[selectors.OrderView], limit: int
                 ) -> list[selectors.OrderView]:
        """Read your writes: the first page begins with the orders accepted at entry that the
        processor has not recorded yet (the caller's; an operator's: the venue's), newest
        first and filtered like the rest, at most a page of them. Later pages hold recorded
        orders only. Without Redis the list is the database's alone."""
        filters = OrderFilterSet(request.query_params, queryset=Order.objects.none())
        if not filters.is_valid():  # filter_queryset already refused it
            return []
        sees_all = sees_everything(request.user)
        try:
            pending = selectors.pending_orders(user_id=None if sees_all else request.user.pk,
                                               limit=limit)
        except redis.RedisError:
            return []
        listed = {order.id for order in shown}
        return [order for order in pending
                if order.id not in listed and pending_matches(filters.form.cleaned_data, order)]

    @extend_schema(responses={200: OrderSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(OrderSerializer(self._order(pk)).data)

    @extend_schema(request=AmendOrderSerializer, responses={202: OrderSerializer,
                                                           **ERROR_RESPONSES})
    @idempotent
    def partial_update(self, request: Request, pk: str) -> Response:
        serializer = AmendOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = self._order(pk)
        try:
            services.request_amend(order=order, requested_by=request.user.pk,
                                   price=serializer.validated_data.get("price"),
                                   quantity=serializer.validated_data.get("quantity"))
        except services.OrderRejected as exc:
            raise violations_error(exc.violations) from exc
        except services.OrderNotWorking as exc:
            raise Conflict(str(exc), code="order_not_working") from exc
        except services.OrderEntryUnavailable as exc:
            raise unavailable(exc) from exc
        return Response(OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: OrderSerializer, **ERROR_RESPONSES})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str) -> Response:
        order = self._order(pk)
        reason = "user" if order.user_id == request.user.pk else "ops"
        try:
            services.request_cancel(order=order, requested_by=request.user.pk, reason=reason)
        except services.OrderNotWorking as exc:
            raise Conflict(str(exc), code="order_not_working") from exc
        except services.OrderEntryUnavailable as exc:
            raise unavailable(exc) from exc
        return Response(OrderSerializer(order).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=CancelAllSerializer, responses={202: CancelAllResultSerializer,
                                                          **ERROR_RESPONSES})
    @action(detail=False, methods=["post"], url_path="cancel-all")
    @idempotent
    def cancel_all(self, request: Request) -> Response:
        serializer = CancelAllSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            count = services.cancel_all(user_id=request.user.pk, requested_by=request.user.pk,
                                        symbol=serializer.validated_data.get("symbol"))
        except services.OrderEntryUnavailable as exc:
            raise unavailable(exc) from exc
        return Response({"requested": count}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: FillSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def fills(self, request: Request, pk: str) -> Response:
        order = self._order(pk)
        return Response(FillSerializer(selectors.fills_of(order_id=order.id), many=True).data)

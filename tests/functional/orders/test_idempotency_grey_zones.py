"""Idempotency where the outcome is not known at once (issue 14, item 7).

- A publish that timed out may have reached Kafka: the answer is 503 `order_outcome_unknown`
  and the key is kept; a retry with it returns the processor's record when there is one,
  and otherwise sends the very same submission again (same id, same submission time),
  which the processor records once (`Submission.REPEATED` for the second copy).
- A failure to store the response after the publish leaves no 409 for a day: a retry finds
  the order.
- A submission the processor must refuse (an id or a client order id already recorded,
  after Redis forgot the key) is reported with its reason, so the processor can emit
  `order.rejected` instead of dropping it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import redis as redis_lib
from rest_framework.test import APIClient

from apps.orders import selectors, services
from apps.orders.api import idempotency
from apps.orders.models import Order
from apps.orders.selectors import RecordedOrder, Submission
from oms.events import Event
from oms.kafka.producer import PublishOutcomeUnknown
from oms.kafka.shared import event_producer
from tests.functional.orders.conftest import OrdersTopic, limit_order

pytestmark = pytest.mark.django_db


class TimingOut:
    """The producer as seen by order entry, whose publishes time out: after the event left
    (`leaves`), or before."""

    def __init__(self, *, leaves: bool) -> None:
        self.leaves = leaves

    def publish(self, topic: str, *, key: str, event: Event) -> Any:
        if self.leaves:
            event_producer().publish(topic, key=key, event=event)
        raise PublishOutcomeUnknown("no acknowledgement from Kafka (test)")


@pytest.fixture
def timing_out(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def install(*, leaves: bool) -> None:
        monkeypatch.setattr(services, "event_producer", lambda: TimingOut(leaves=leaves))
    yield install
    monkeypatch.undo()


def record(payload: dict[str, Any]) -> tuple[Submission, RecordedOrder | None]:
    """What the processor does with an `order.submitted` it consumes: classify it against
    the read model, and record it when it is new."""
    order_id = uuid.UUID(payload["order_id"])
    submitted_at = datetime.fromisoformat(payload["submitted_at"])
    outcome, recorded = selectors.recorded_orders(
        order_ids=[order_id], client_order_ids=[(payload["user_id"], payload["client_order_id"])],
    ).classify(order_id=order_id, user_id=payload["user_id"],
               client_order_id=payload["client_order_id"], submitted_at=submitted_at)
    if outcome is Submission.RECORDED:
        services.record_orders(submitted=[services.SubmittedOrder(
            state=services.OrderState(order_id=order_id, status="NEW",
                                      quantity=Decimal(payload["quantity"]),
                                      price=Decimal(payload["price"]),
                                      filled_quantity=Decimal(0), average_fill_price=None,
                                      reason_code="", updated_at=submitted_at),
            user_id=payload["user_id"], client_order_id=payload["client_order_id"],
            symbol=payload["symbol"], side=payload["side"], order_type=payload["type"],
            time_in_force=payload["time_in_force"], stop_price=None,
            post_only=payload["post_only"], expires_at=None, created_at=submitted_at)],
            changed=[], fills=[])
    return outcome, recorded


def key_state(redis_client: redis_lib.Redis, client: APIClient, key: str) -> str:
    stored = redis_client.get(f"idempotency:{client.user.pk}:{key}")  # type: ignore[attr-defined]
    return str(json.loads(stored or b"{}").get("state"))


def test_a_timed_out_publish_that_left_is_resent_identically_and_recorded_once(
    alice: APIClient, orders_topic: OrdersTopic, redis_client: redis_lib.Redis,
    timing_out: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    timing_out(leaves=True)
    first = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-1")
    assert first.status_code == 503
    assert first.json()["errors"][0]["code"] == "order_outcome_unknown"
    assert first["Retry-After"]
    assert key_state(redis_client, alice, "g-1") == "unknown"
    monkeypatch.undo()

    retry = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-1")
    assert retry.status_code == 202, retry.content
    order_id = retry.json()["id"]
    assert order_id == str(services.order_id_for(user_id=alice.user.pk,  # type: ignore[attr-defined]
                                                 idempotency_key="g-1"))
    copies = [event.payload for _, event, _ in orders_topic.events_about(order_id, expect=2)]
    assert len(copies) == 2
    assert copies[0] == copies[1]  # the same submission, submission time included
    assert [record(copy)[0] for copy in copies] == [Submission.RECORDED, Submission.REPEATED]
    assert record(copies[1])[0] is Submission.REPEATED  # the processor ignores it
    assert Order.objects.count() == 1
    replay = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-1")
    assert replay.json() == retry.json()
    assert len(orders_topic.events_about(order_id, expect=3, seconds=2)) == 2


def test_a_retry_returns_the_outcome_the_processor_decided(
    alice: APIClient, orders_topic: OrdersTopic, redis_client: redis_lib.Redis,
    timing_out: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    timing_out(leaves=True)
    assert alice.post("/api/orders", limit_order(), format="json",
                      HTTP_IDEMPOTENCY_KEY="g-2").status_code == 503
    monkeypatch.undo()
    order_id = str(services.order_id_for(user_id=alice.user.pk,  # type: ignore[attr-defined]
                                         idempotency_key="g-2"))
    [(_, event, _)] = orders_topic.events_about(order_id)
    assert record(event.payload)[0] is Submission.RECORDED
    Order.objects.filter(id=order_id).update(status="REJECTED",
                                             reason_code="insufficient_funds")
    before = orders_topic.end_offsets()

    retry = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-2")
    assert retry.status_code == 202
    assert retry["Idempotent-Replayed"] == "true"
    assert (retry.json()["id"], retry.json()["status"], retry.json()["reason_code"]) == (
        order_id, "REJECTED", "insufficient_funds")
    assert orders_topic.end_offsets() == before  # nothing sent again
    assert key_state(redis_client, alice, "g-2") == "done"


def test_a_timed_out_publish_that_never_left_is_sent_on_retry(
    alice: APIClient, orders_topic: OrdersTopic, timing_out: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timing_out(leaves=False)
    body = limit_order(client_order_id="grey-3")
    assert alice.post("/api/orders", body, format="json",
                      HTTP_IDEMPOTENCY_KEY="g-3").status_code == 503
    monkeypatch.undo()
    retry = alice.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="g-3")
    assert retry.status_code == 202
    assert retry.json()["client_order_id"] == "grey-3"  # kept for this very order
    [(_, event, _)] = orders_topic.events_about(retry.json()["id"])
    assert record(event.payload)[0] is Submission.RECORDED


def test_without_a_key_a_timed_out_publish_is_503_and_frees_the_client_order_id(
    alice: APIClient, timing_out: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    timing_out(leaves=False)
    first = alice.post("/api/orders", limit_order(client_order_id="grey-4"), format="json")
    assert first.status_code == 503
    assert first.json()["errors"][0]["code"] == "order_outcome_unknown"
    monkeypatch.undo()
    assert alice.post("/api/orders", limit_order(client_order_id="grey-4"),
                      format="json").status_code == 202


def test_a_response_that_could_not_be_stored_is_no_409_for_a_day(
    alice: APIClient, orders_topic: OrdersTopic, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def redis_fails(**_: object) -> None:
        raise redis_lib.ConnectionError("Redis went away (test)")

    monkeypatch.setattr(idempotency, "complete", redis_fails)
    placed = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-5")
    assert placed.status_code == 202  # placed is placed
    monkeypatch.undo()
    retry = alice.post("/api/orders", limit_order(), format="json", HTTP_IDEMPOTENCY_KEY="g-5")
    assert retry.status_code == 202, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == placed.json()["id"]
    assert len(orders_topic.events_about(placed.json()["id"], expect=2, seconds=2)) == 1


def test_a_key_stuck_in_flight_is_resolved_after_in_flight_seconds(
    alice: APIClient, orders_topic: OrdersTopic
) -> None:
    """The request died between its claim and its publish (or could not store anything)."""
    body = limit_order()
    user_id = alice.user.pk  # type: ignore[attr-defined]
    long_ago = datetime.now(UTC) - timedelta(seconds=idempotency.IN_FLIGHT_SECONDS + 1)
    idempotency.claim(user_id=user_id, key="g-6", now=long_ago,
                      request_fingerprint=idempotency.fingerprint("POST", "/api/orders", body))
    retry = alice.post("/api/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="g-6")
    assert retry.status_code == 202, retry.content
    [(_, event, _)] = orders_topic.events_about(retry.json()["id"])
    assert datetime.fromisoformat(event.payload["submitted_at"]) == long_ago


def test_duplicates_after_redis_forgot_are_reported_with_their_reason(
    alice: APIClient, redis_client: redis_lib.Redis, orders_topic: OrdersTopic
) -> None:
    first = alice.post("/api/orders", limit_order(client_order_id="dup-1"), format="json",
                       HTTP_IDEMPOTENCY_KEY="d-1").json()
    [(_, event, _)] = orders_topic.events_about(first["id"])
    assert record(event.payload)[0] is Submission.RECORDED
    redis_client.flushdb()  # a day (or a week) later, Redis has forgotten key and client id

    again = alice.post("/api/orders", limit_order(client_order_id="dup-2"), format="json",
                       HTTP_IDEMPOTENCY_KEY="d-1").json()
    assert again["id"] == first["id"]
    [_, (_, reused_key, _)] = orders_topic.events_about(first["id"], expect=2)
    outcome, recorded = record(reused_key.payload)
    assert (outcome, recorded and recorded.status) == (Submission.DUPLICATE_ORDER_ID, "NEW")

    reused_id = alice.post("/api/orders", limit_order(client_order_id="dup-1"),
                           format="json").json()
    [(_, reused, _)] = orders_topic.events_about(reused_id["id"])
    outcome, recorded = record(reused.payload)
    assert outcome is not Submission.RECORDED
    assert (outcome, recorded and str(recorded.order_id)) == (
        Submission.DUPLICATE_CLIENT_ORDER_ID, first["id"])
    # The processor's refusal reaches reads of the order it did not record.
    services.record_refused_submission(order_id=uuid.UUID(reused_id["id"]),
                                       reason_code="duplicate_client_order_id",
                                       updated_at=datetime.now(UTC))
    shown = alice.get(f"/api/orders/{reused_id['id']}").json()
    assert (shown["status"], shown["reason_code"]) == ("REJECTED", "duplicate_client_order_id")
    listed = alice.get("/api/orders?status=REJECTED").json()["results"]
    assert [item["id"] for item in listed] == [reused_id["id"]]
    # Cancel-all reaches the recorded order, not the refused one (which is final).
    assert alice.post("/api/orders/cancel-all", {}, format="json").json() == {"requested": 1}
    assert Order.objects.count() == 1

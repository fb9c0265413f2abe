"""The dead-man switch on the real Redis and broker: a client that stops renewing has every
working order cancelled with reason `dead_man` (on the `orders` topic, where the processor
takes it), once; a client that renews or disarms keeps its orders; bad input is 400 and
arms nothing. Time is passed to the firing, not waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib
from django.conf import settings
from rest_framework.test import APIClient

from apps.orders.dead_man import DUE_KEY, fire_due_dead_men
from tests.functional.orders.conftest import OrdersTopic
from tests.functional.orders.test_reads_and_actions import recorded

pytestmark = pytest.mark.django_db


def test_a_client_that_stops_renewing_has_its_orders_cancelled(
        alice: APIClient, bob: APIClient, orders_topic: OrdersTopic) -> None:
    mine, other = recorded(alice), recorded(bob)
    armed = alice.post("/api/orders/dead-man", {"countdown": 30}, format="json")
    assert armed.status_code == 200, armed.json()
    fires_at = datetime.fromisoformat(armed.json()["fires_at"])
    assert armed.json()["countdown"] == 30

    assert fire_due_dead_men(now=fires_at - timedelta(seconds=1)) == {}
    renewed = alice.post("/api/orders/dead-man", {"countdown": 60}, format="json").json()
    assert fire_due_dead_men(now=fires_at) == {}  # renewed: the old deadline no longer holds
    later = datetime.fromisoformat(renewed["fires_at"])
    assert fire_due_dead_men(now=later) == {alice.user.pk: 1}  # type: ignore[attr-defined]
    [(_, event, _)] = orders_topic.events_about(str(mine.id))
    assert (event.type, event.payload["reason"]) == ("order.cancel_requested", "dead_man")
    assert orders_topic.events_about(str(other.id), seconds=1) == []
    assert fire_due_dead_men(now=later + timedelta(hours=1)) == {}  # fired once


def test_disarming_keeps_the_orders(alice: APIClient, orders_topic: OrdersTopic) -> None:
    order = recorded(alice)
    alice.post("/api/orders/dead-man", {"countdown": 5}, format="json")
    disarmed = alice.post("/api/orders/dead-man", {"countdown": 0}, format="json")
    assert disarmed.json() == {"countdown": 0, "fires_at": None}
    assert fire_due_dead_men(now=datetime.now(UTC) + timedelta(days=2)) == {}
    assert orders_topic.events_about(str(order.id), seconds=1) == []


@pytest.mark.parametrize(("body", "code"), [
    ({"countdown": -1}, "min_value"),
    ({"countdown": 86401}, "max_value"),
    ({"countdown": "soon"}, "invalid"),
    ({}, "required"),
    ({"countdown": 10, "cancel": "all"}, "unknown_field"),
])
def test_bad_input_is_400_and_arms_nothing(alice: APIClient, body: dict[str, object],
                                           code: str) -> None:
    response = alice.post("/api/orders/dead-man", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    client = redis_lib.Redis.from_url(settings.REDIS_URL)
    assert client.zcard(DUE_KEY) == 0
    client.close()


def test_anonymous_clients_cannot_arm(instruments: None) -> None:
    response = APIClient().post("/api/orders/dead-man", {"countdown": 10}, format="json")
    assert response.status_code == 401

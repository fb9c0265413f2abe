"""The two Redis scripts behind velocity, against a plain model, on the real Redis: the
windows a batch's claims go into (each window's size asked once and counted on in the
script), and the minute's notionals a batch records (each order's entry read once, the
total moved once per limb). Random sequences, so that an order entered twice in one call,
an entry taken back, a batch applied again and an order only read all come up."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.risk.batch import _NOTIONALS, _WINDOWS
from apps.risk.domain.notionals import LIMBS, from_limbs, to_limbs
from oms.redis import lua_script, redis_client, run_script

pytestmark = pytest.mark.usefixtures("redis_client")

ORDERS = [f"order-{n}" for n in range(6)]
NOTIONALS = st.one_of(st.none(), st.decimals(min_value=Decimal("0.000001"),
                                              max_value=Decimal("10") ** 17, places=6))
# An entry: (order, notional), None taking the order's notional back.
CALLS = st.lists(st.lists(st.tuples(st.sampled_from(ORDERS), NOTIONALS), max_size=12),
                 min_size=1, max_size=4)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=CALLS)
def test_a_minute_holds_each_orders_last_notional_and_their_exact_total(
        calls: list[list[tuple[str, Decimal | None]]]) -> None:
    key = f"test:notional:{uuid.uuid4()}"
    model: dict[str, str] = {}
    for entries in calls:
        pairs = [f"{order}={'0' if notional is None else to_limbs(notional)}"
                 for order, notional in entries]
        run_script(lua_script(_NOTIONALS), [key], [120, " ".join(pairs)])
        for order, notional in entries:
            if notional is None:
                model.pop(order, None)
            else:
                model[order] = to_limbs(notional)
    stored = {field.decode(): value.decode()
              for field, value in redis_client().hgetall(key).items()}
    totals = [int(stored.pop(f"#{j}", 0)) for j in range(LIMBS)]
    assert stored == model
    assert from_limbs(totals) == sum(
        (from_limbs(map(int, limbs.split(","))) for limbs in model.values()), Decimal(0))


CLAIMS = st.lists(st.tuples(st.sampled_from(ORDERS), st.integers(0, 2), st.booleans()),
                  max_size=15)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(CLAIMS, min_size=1, max_size=3))
def test_each_claim_sees_the_other_orders_of_its_windows(
        batches: list[list[tuple[str, int, bool]]]) -> None:
    """A claim (order, window pair, counted or only read) answers, per window, how many
    other orders the window holds once the claims before it are in."""
    prefix = f"test:window:{uuid.uuid4()}"
    windows = [f"{prefix}:{n}" for n in range(4)]  # pairs: (0, 1), (1, 2), (2, 3)
    model: dict[str, set[str]] = {window: set() for window in windows}
    for claims in batches:
        if not claims:
            continue
        answer = run_script(lua_script(_WINDOWS), windows, [
            120, " ".join(order for order, _, _ in claims),
            "".join("1" if counts else "0" for _, _, counts in claims),
            " ".join(f"{pair + 1} {pair + 2}" for _, pair, _ in claims)])
        expected = []
        for order, pair, counts in claims:
            for window in windows[pair:pair + 2]:
                if counts:
                    model[window].add(order)
                expected.append(len(model[window] - {order}))
        assert [int(size) for size in answer.split()] == expected
    for window in windows:
        members = {member.decode() for member in redis_client().smembers(window)}
        assert members == model[window]
        assert not members or 0 < redis_client().ttl(window) <= 120

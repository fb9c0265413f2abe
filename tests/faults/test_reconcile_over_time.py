"""Reconcile stays true over time (issue #14 item 10), against the real services: while
orders flow, the outbox is pruned down to a few seconds and `reconcile` still finds
nothing, and the ledger checks run beside the processor's batches never see half a batch.

The local broker (Tansu 0.6, memory storage) keeps every record whatever `retention.ms`
says, and drops the connection on `DeleteRecords`, so the topic's own retention cannot be
exercised here; what is tested is the other half: `reconcile` reads the topic only from
the outbox's keep horizon on and never needs a record older than the outbox keeps."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.faults.conftest import Venue, all_processed, start_order_roles, wait_until

pytestmark = pytest.mark.faults

KEEP_SECONDS = 3

# Runs inside `manage.py shell` beside the live processor: the named checks again and
# again for `seconds`, pruning the outbox before each round when asked; prints one JSON
# line with the rounds run, the rows pruned and every finding.
CHECK_LOOP = """
import json, time
from apps.processing.reconciliation import reconcile
from apps.processing.tasks import prune_outbox
rounds, pruned, findings = 0, 0, []
deadline = time.monotonic() + {seconds}
while time.monotonic() < deadline:
    if {prune}:
        pruned += prune_outbox()
    for found in reconcile({checks}).values():
        findings += [finding.detail for finding in found]
    rounds += 1
print(json.dumps({{"rounds": rounds, "pruned": pruned, "findings": findings}}))
"""


@dataclass(frozen=True)
class CheckReport:
    rounds: int
    pruned: int
    findings: list[str]


def check_loop(venue: Venue, *, checks: list[str], seconds: float, prune: bool) -> CheckReport:
    result = venue.manage("shell", "-c", CHECK_LOOP.format(seconds=seconds, prune=prune,
                                                           checks=checks), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return CheckReport(**json.loads(result.stdout.strip().splitlines()[-1]))


def outbox_rows(venue: Venue) -> int:
    return int(str(venue.scalar("SELECT count(*) FROM processing_outboxevent")))


def test_outbox_pruned_under_traffic_reconciles_clean(venue: Venue) -> None:
    venue.env["OMS_OUTBOX_KEEP_SECONDS"] = str(KEEP_SECONDS)
    start_order_roles(venue)
    load = venue.start("simulate_orders", "--users", "maker,taker", "--orders", "1500",
                       "--seed", "31", "--rate", "100")
    wait_until(lambda: outbox_rows(venue) > 100, seconds=60, what="orders flowing")
    during = check_loop(venue, checks=["executions"], seconds=15, prune=True)
    assert during.findings == []
    assert during.rounds >= 3
    assert during.pruned > 0
    assert load.wait(timeout=120) == 0
    wait_until(lambda: all_processed(venue), seconds=60, what="every order processed")
    after = check_loop(venue, checks=["executions"], seconds=KEEP_SECONDS + 1, prune=True)
    assert after.findings == []
    # The outbox holds the last few seconds of events, not the run's history.
    assert venue.scalar("SELECT count(*) FROM processing_outboxevent"
                        " WHERE published_at < now() - interval '10 seconds'") == 0
    result = venue.manage("reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconcile: clean" in result.stdout


def test_ledger_checks_beside_processor_batches_read_one_snapshot(venue: Venue) -> None:
    start_order_roles(venue)
    load = venue.start("simulate_orders", "--users", "maker,taker", "--orders", "3000",
                       "--seed", "32", "--rate", "200")
    wait_until(lambda: outbox_rows(venue) > 100, seconds=60, what="orders flowing")
    during = check_loop(venue, checks=["conservation", "balanced", "trades", "reservations",
                                       "books"], seconds=15, prune=False)
    assert during.rounds >= 5
    assert during.findings == []
    load.kill()
    load.wait()

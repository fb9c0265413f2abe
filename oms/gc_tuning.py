"""The garbage collector's settings for the long-lived processes (the processor, the web
and ws workers): freeze what start-up built and collect far less often.

Each of them allocates thousands of short-lived container objects per second (events,
rows, decisions, queued messages) beside many long-lived ones (Django and the apps, a
processor's books, a ws process's connections). With the default threshold (700) the
young objects are collected and promoted over and over, and full collections walk every
live object: measured, about a fifth of a ws process's CPU (full passes of 70-135 ms every
0.7 s, the worst of its delivery delays) and about a quarter of the processor's (CPU per
order 285 -> 217 µs under `make bench-processor`)."""

from __future__ import annotations

import gc

# Container objects allocated (beyond those freed) before a collection; the older
# generations then every 20 of the younger one's.
YOUNG_THRESHOLD = 50_000
# A web worker's. Every request thread of the worker stops while a collection runs: with
# 50,000, collections under load came once a second and took 30-120 ms, the worst of
# order entry's latency. An order request now leaves nothing to collect
# (`oms.api.request_cycles`), but reads still leave their serializers' and filter forms'
# cycles (67-326 objects a request): collected in small steps, the pauses are 1-6 ms.
WEB_YOUNG_THRESHOLD = 5_000


def settle_heap(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Call once start-up is done: what exists now is never walked again."""
    gc.freeze()
    gc.set_threshold(young_threshold, 20, 20)

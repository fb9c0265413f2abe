"""What a web worker does once it has loaded the application (config/gunicorn.py): its
collector settles for short pauses, and its Kafka producer is made before the first order
(an idempotent producer gets its id from the broker only after a first back-off, which the
first order would otherwise wait for: about a second, measured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oms import gc_tuning


def test_a_web_worker_collects_in_short_pauses(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    # config.gunicorn picks the metrics' directory at import: a throwaway one here.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    import config.gunicorn as web

    settled: list[int] = []
    monkeypatch.setattr(web, "settle_heap", lambda threshold: settled.append(threshold))
    monkeypatch.setattr(web, "worker_started", lambda: None)
    web.post_worker_init(object())
    assert settled == [gc_tuning.WEB_YOUNG_THRESHOLD]
    assert gc_tuning.WEB_YOUNG_THRESHOLD < gc_tuning.YOUNG_THRESHOLD


def test_a_web_worker_makes_its_producer_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from oms import web_role
    from oms.kafka import shared
    from oms.observability import health

    made: list[bool] = []
    probed: list[Any] = []

    class Probe:
        def __init__(self, checks: Any) -> None:
            probed.append(checks)

        def start(self) -> Probe:
            return self

    monkeypatch.setattr(shared, "event_producer", lambda: made.append(True))
    monkeypatch.setattr(web_role, "BreakerProbe", Probe)
    monkeypatch.setattr(web_role, "_breaker_probe", [])
    web_role.worker_started()
    assert made == [True]
    assert probed == [health.DEPENDENCY_CHECKS]

"""The Celery app of the `celery-worker` and `celery-beat` roles. Tasks live in each app's
`tasks` module; the schedule is `CELERY_BEAT_SCHEDULE` in settings. When `OMS_PROBE_PORT`
is set, the worker and beat serve `/health`, `/ready` and `/metrics` like every role."""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _start_probe_server(role: str) -> None:
    port = os.environ.get("OMS_PROBE_PORT")
    if not port:
        return
    from oms.observability.health import run_checks
    from oms.observability.probe_server import ProbeServer

    ProbeServer(port=int(port), role=role,
                readiness=lambda: run_checks(["postgres", "redis"])).start()


@worker_init.connect  # type: ignore[untyped-decorator]
def _worker_probes(**_: Any) -> None:
    _start_probe_server("celery-worker")


@beat_init.connect  # type: ignore[untyped-decorator]
def _beat_probes(**_: Any) -> None:
    _start_probe_server("celery-beat")

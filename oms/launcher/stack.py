"""The whole local stack: start the services that the environment does not provide,
create the topics, hand back the environment that points every role at them, and stop
them in reverse order."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from confluent_kafka import KafkaException

from oms.kafka.topics import ensure_topics
from oms.launcher.process import LauncherError
from oms.launcher.services import KafkaService, PostgresService, RedisService, Service

DATABASE_URL = "DATABASE_URL"
REDIS_URL = "REDIS_URL"
KAFKA_BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS"


class ServiceStack:
    """Context manager around the services of D3.

    `durable=True` is the development stack (data kept in `state_dir` across restarts);
    `durable=False` is a throwaway stack for tests (fast, nothing kept). `interruptible=True`
    (fault tests) fronts the broker with a proxy so that `service("kafka").interrupt()`
    and `.resume()` work like those of PostgreSQL and Redis."""

    def __init__(
        self,
        state_dir: Path,
        *,
        durable: bool,
        environ: Mapping[str, str] | None = None,
        partitions: int = 3,
        interruptible: bool = False,
    ) -> None:
        self.state_dir = state_dir
        self.durable = durable
        self.environ = dict(os.environ if environ is None else environ)
        self.partitions = partitions
        self.interruptible = interruptible
        self.started: list[Service] = []
        self.env: dict[str, str] = {}

    def _wanted(self) -> list[tuple[str, Service]]:
        wanted: list[tuple[str, Service]] = []
        if not self.environ.get(DATABASE_URL):
            wanted.append((DATABASE_URL, PostgresService(self.state_dir, durable=self.durable)))
        if not self.environ.get(REDIS_URL):
            wanted.append((REDIS_URL, RedisService(self.state_dir, durable=self.durable)))
        if not self.environ.get(KAFKA_BOOTSTRAP_SERVERS):
            kafka = KafkaService(self.state_dir, fronted=self.interruptible)
            wanted.append((KAFKA_BOOTSTRAP_SERVERS, kafka))
        return wanted

    def start(self) -> dict[str, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            for variable, service in self._wanted():
                service.start()
                self.started.append(service)
                self.env[variable] = service.url
            bootstrap = self.env.get(KAFKA_BOOTSTRAP_SERVERS) or self.environ[
                KAFKA_BOOTSTRAP_SERVERS
            ]
            try:
                ensure_topics(bootstrap, partitions=self.partitions, replication_factor=1)
            except KafkaException as exc:
                raise LauncherError(f"kafka: cannot create topics at {bootstrap}: {exc}") from None
        except BaseException:
            self.stop()
            raise
        return self.env

    def service(self, name: str) -> Service:
        """A started service by name (`postgres`, `redis`, `kafka`), for fault tests."""
        for service in self.started:
            if service.name == name:
                return service
        raise KeyError(name)

    def stop(self) -> None:
        while self.started:
            self.started.pop().stop()

    def __enter__(self) -> dict[str, str]:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

"""Starts the services the OMS needs (PostgreSQL, Redis, a Kafka-protocol broker) on free
loopback ports, so a fresh machine runs and tests the project with no system packages,
no root setup and no Docker (decision D3). Any service given by environment variable
(`DATABASE_URL`, `REDIS_URL`, `KAFKA_BOOTSTRAP_SERVERS`) is used instead of started."""

from oms.launcher.process import LauncherError
from oms.launcher.stack import ServiceStack

__all__ = ["LauncherError", "ServiceStack"]

"""JSON log lines with the correlation id on each, for CloudWatch and any log search."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from oms.observability.context import current_correlation_id


class CorrelationIdFilter(logging.Filter):
    """Adds `correlation_id` to every record (None outside a request or event)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current_correlation_id()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}{correlation_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

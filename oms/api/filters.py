"""Filters every list endpoint may share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """An ISO 8601 time in any offset, compared in UTC (PostgreSQL refuses offsets beyond
    ±15:59 that ISO 8601 allows, and a time near year 1 or 9999 may not convert at all)."""

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValidationError({self.field_name: "out of range"}) from None
        filtered: QuerySet[Any] = super().filter(qs, value)
        return filtered

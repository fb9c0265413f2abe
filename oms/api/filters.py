"""Filters every list endpoint may share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError


class _GivenUUIDField(forms.UUIDField):
    """A UUID that, when the parameter is there at all, must be one: `?order=` is a
    malformed request (400), not the absence of a filter, as the schema says."""

    def clean(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError("Must be a valid UUID.", code="invalid")
        return super().clean(value)


class _GivenIsoDateTimeField(django_filters.fields.IsoDateTimeField):  # type: ignore[misc]
    """The same for a time: `?created_before=` is malformed, not absent."""

    def clean(self, value: Any) -> Any:
        if value == "":
            raise forms.ValidationError("Enter a valid date/time.", code="invalid")
        return super().clean(value)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    """An ISO 8601 time in any offset, compared in UTC (PostgreSQL refuses offsets beyond
    ±15:59 that ISO 8601 allows, and a time near year 1 or 9999 may not convert at all)."""

    field_class = _GivenIsoDateTimeField

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        if value is None:
            return qs
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValidationError({self.field_name: "out of range"}) from None
        filtered: QuerySet[Any] = super().filter(qs, value)
        return filtered


class UuidFilter(django_filters.UUIDFilter):  # type: ignore[misc]
    """A UUID filter whose empty value is an error, as the API schema says (a UUID)."""

    field_class = _GivenUUIDField

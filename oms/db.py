"""Model field shapes every app shares."""

from __future__ import annotations

from typing import Any

from django.db import models

from oms.money import DECIMAL_PLACES, MAX_DIGITS


def amount_field(**kwargs: Any) -> models.DecimalField:  # type: ignore[type-arg]
    """An exact amount column: NUMERIC(38, 18) (D8)."""
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)

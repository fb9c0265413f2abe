"""Public reads of the accounts context: an owner's API keys, as frozen data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.accounts.models import ApiKey

__all__ = ["ApiKeyView", "api_keys_of", "key_view"]


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    key_id: str
    user_id: int
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(key_id=key.key_id, user_id=key.user_id, name=key.name,
                      scopes=tuple(key.scopes), created_at=key.created_at,
                      last_used_at=key.last_used_at, revoked_at=key.revoked_at)


def api_keys_of(*, user_id: int) -> list[ApiKeyView]:
    """The user's keys, newest first, revoked ones included."""
    return [key_view(key) for key in ApiKey.objects.filter(user_id=user_id)]


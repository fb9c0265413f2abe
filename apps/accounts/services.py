"""Writes of the accounts context: issue, revoke and rotate API keys, and note their use.
The secret of a key is returned once, by the call that issues it; afterwards only its
owner's client knows it (the server can check signatures with it, never show it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.domain import signing
from apps.accounts.models import ApiKey
from apps.accounts.selectors import ApiKeyView, key_view
from oms.api.permissions import Scope

__all__ = ["IssuedApiKey", "create_api_key", "pepper", "record_use", "revoke_api_key",
           "rotate_api_key", "secret_of"]

# `last_used_at` is a hint for owners, not an audit: written at most this often per key, so
# a busy key does not cost a database write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key: ApiKeyView
    secret: str


def pepper() -> bytes:
    """The server-side pepper secrets are derived with: `API_KEY_PEPPER`, or (when unset)
    one derived from `SECRET_KEY`, so rotating `SECRET_KEY` then invalidates every key."""
    configured = settings.API_KEY_PEPPER
    if configured:
        return configured.encode()
    return hashlib.sha256(f"oms.api-key-pepper:{settings.SECRET_KEY}".encode()).digest()


def secret_of(key: ApiKey) -> str:
    return signing.derive_secret(pepper(), key.secret_salt)


def normalized_scopes(scopes: Iterable[Scope]) -> list[str]:
    """`trade` includes `read`: a trading client must see what it trades."""
    chosen = set(scopes)
    if Scope.TRADE in chosen:
        chosen.add(Scope.READ)
    return sorted(scope.value for scope in chosen)


def create_api_key(*, user_id: int, name: str, scopes: Iterable[Scope]) -> IssuedApiKey:
    salt = signing.new_salt()
    secret = signing.derive_secret(pepper(), salt)
    key = ApiKey.objects.create(key_id=signing.new_key_id(), user_id=user_id, name=name,
                                scopes=normalized_scopes(scopes), secret_salt=salt,
                                secret_hash=signing.secret_hash(secret))
    return IssuedApiKey(key=key_view(key), secret=secret)


def revoke_api_key(*, key_id: str, user_id: int | None = None) -> ApiKeyView | None:
    """Revoke a key (of `user_id`, when given); None if there is no such key. Revoking a
    revoked key keeps its first revocation time."""
    keys = ApiKey.objects.filter(key_id=key_id)
    if user_id is not None:
        keys = keys.filter(user_id=user_id)
    keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    key = keys.first()
    return None if key is None else key_view(key)


@transaction.atomic
def rotate_api_key(*, key_id: str) -> IssuedApiKey:
    """A new key with the old one's owner, name and scopes; the old one is revoked."""
    old = ApiKey.objects.select_for_update().get(key_id=key_id)
    issued = create_api_key(user_id=old.user_id, name=old.name,
                            scopes=[Scope(scope) for scope in old.scopes])
    revoke_api_key(key_id=key_id)
    return issued


def record_use(key: ApiKey, now: datetime) -> None:
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(key_id=key.key_id).update(last_used_at=now)

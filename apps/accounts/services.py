"""Writes of the accounts context: issue, revoke and rotate API keys, and note their use;
issue and redeem WebSocket tickets; end a user's private streams.

The secret of a key is returned once, by the call that issues it; afterwards only its
owner's client knows it (the server can check signatures with it, never show it).

A WebSocket URL ends up in proxy logs and browser history, so no long-lived credential goes
there: a client authenticated over HTTP asks for a ticket (random, single use, valid
`STREAM_TICKET_SECONDS`, kept in Redis as `wsticket:{ticket}`) and opens `/ws/orders?ticket=`.
Logging out or revoking a credential ends every private stream of its user
(`events.STREAMS_ENDED`): a stream must not outlive the credential that opened it, and a
client that still holds a valid one reconnects with a fresh ticket."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.accounts.domain import signing
from apps.accounts.events import STREAMS_ENDED, streams_group
from apps.accounts.models import ApiKey
from apps.accounts.selectors import ApiKeyView, key_view
from oms.api.permissions import Scope
from oms.auth.roles import Role, assign_role
from oms.redis import redis_client

__all__ = [
    "STREAM_TICKET_SECONDS",
    "IssuedApiKey",
    "StreamTicket",
    "UserAccess",
    "create_api_key",
    "end_streams_of",
    "ensure_user",
    "issue_stream_ticket",
    "pepper",
    "record_use",
    "redeem_stream_ticket",
    "revoke_api_key",
    "rotate_api_key",
    "secret_of",
]

logger = logging.getLogger(__name__)

STREAM_TICKET_SECONDS = 30

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
    if key is None:
        return None
    owner = key.user_id
    transaction.on_commit(lambda: end_streams_of(user_id=owner))
    return key_view(key)


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


@dataclass(frozen=True, slots=True)
class StreamTicket:
    ticket: str
    expires_in: int


def _ticket_key(ticket: str) -> str:
    return f"wsticket:{ticket}"


def issue_stream_ticket(*, user_id: int) -> StreamTicket:
    """A ticket that opens one private stream of `user_id` within `STREAM_TICKET_SECONDS`.
    Raises `redis.RedisError` when Redis cannot keep it."""
    ticket = secrets.token_urlsafe(32)
    redis_client().set(_ticket_key(ticket), user_id, ex=STREAM_TICKET_SECONDS)
    return StreamTicket(ticket=ticket, expires_in=STREAM_TICKET_SECONDS)


def redeem_stream_ticket(*, ticket: str) -> int | None:
    """The user a ticket was issued to, once: the ticket is gone afterwards. None for an
    unknown, used or expired ticket, or when Redis cannot say."""
    try:
        user_id = redis_client().getdel(_ticket_key(ticket))
    except redis.RedisError as exc:
        logger.warning("cannot redeem a stream ticket: %s", exc)
        return None
    return None if user_id is None else int(user_id)


def end_streams_of(*, user_id: int) -> None:
    """Close every private stream of `user_id` (on logout and on revocation). Best effort:
    without the channel layer nothing can be closed, and the logout or revocation itself
    must still succeed."""
    try:
        async_to_sync(get_channel_layer().group_send)(streams_group(user_id),
                                                      {"type": STREAMS_ENDED})
    except (redis.RedisError, OSError) as exc:
        logger.warning("cannot end the streams of user %s: %s", user_id, exc)


@dataclass(frozen=True, slots=True)
class UserAccess:
    user_id: int
    created: bool
    token: str  # the user's API token (`Authorization: Token <key>`)


def ensure_user(*, username: str, role: Role, password: str | None = None,
                password_on_create_only: bool = False) -> UserAccess:
    """Create or update a user whose only OMS role is `role`, with an API token.
    `password` is set when given (with `password_on_create_only`, only on creation); a new
    user without one gets an unusable password. Operators and admins are staff and
    superusers (the Django admin)."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if password and (created or not password_on_create_only):
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = user.is_superuser = role in (Role.OPS, Role.ADMIN)
    user.save()
    assign_role(user, role)
    token, _ = Token.objects.get_or_create(user=user)
    return UserAccess(user_id=user.pk, created=created, token=token.key)

"""Events of the accounts context. No Kafka topic: creating, rotating and revoking a key is
recorded on the key itself (`created_at`, `revoked_at`) and no other context reacts to it.

One channel-layer message: when a user logs out or revokes a credential, `services` sends
`STREAMS_ENDED` to `streams_group(user_id)`, which every private WebSocket of that user
joins (`/ws/orders`) and which closes it. A stream must not outlive the credential that
opened it, and the ws role is the only one that can close its sockets."""

from __future__ import annotations

STREAMS_ENDED = "accounts.streams_ended"  # Channels calls `accounts_streams_ended`


def streams_group(user_id: int) -> str:
    return f"accounts.streams.{user_id}"

"""Signed API-key requests, as exchanges do them. The client sends its key id, the time in
milliseconds, an optional receive window and

    X-API-SIGNATURE = hex(HMAC-SHA256(secret, timestamp + recv_window + METHOD
                                              + path [+ "?" + query] + body))

where `recv_window` is the `X-API-RECV-WINDOW` header exactly as sent (empty when absent).
A request is fresh while its timestamp is at most the receive window in the past and at most
`FUTURE_TOLERANCE_MS` in the future (clocks drift). The window is signed so that nobody but
the key's owner can widen it, and every signature is remembered for the longest window any
request may claim, so a replay is caught whatever window it says it has.

The server needs the secret to check a signature, so it cannot keep only a one-way hash
of it. Instead each secret is *derived*: HMAC-SHA256 of a random per-key salt (in the
database) under a server-side pepper (in the environment, never in the database). The
database alone gives away no secret; the stored hash of the secret tells a changed pepper
apart from a bad signature. Pure Python: no Django, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

DEFAULT_RECV_WINDOW_MS = 5_000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1_000
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def new_key_id() -> str:
    return f"ak_{secrets.token_hex(12)}"


def new_salt() -> str:
    return secrets.token_hex(32)


def derive_secret(pepper: bytes, salt: str) -> str:
    """The key's secret (64 hex characters), the HMAC key the client signs with."""
    return hmac.new(pepper, salt.encode(), hashlib.sha256).hexdigest()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def signed_message(*, timestamp: str, recv_window: str, method: str, path: str, query: str,
                   body: bytes) -> bytes:
    """`recv_window` is the header as sent, "" when the client sent none."""
    target = f"{path}?{query}" if query else path
    return f"{timestamp}{recv_window}{method.upper()}{target}".encode() + body


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def is_signature_shaped(signature: str) -> bool:
    """64 lower-case hex digits, as every signature is."""
    return bool(_HEX_SIGNATURE.fullmatch(signature))


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    """Constant-time comparison; anything but 64 hex digits never matches."""
    given = signature.strip().lower()
    return is_signature_shaped(given) and hmac.compare_digest(sign(secret, message), given)


def parse_timestamp(raw: str) -> int | None:
    """Milliseconds since the epoch, or None if `raw` is not a plain non-negative integer."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 15 else None


def parse_recv_window(raw: str | None) -> int | None:
    """The receive window in ms (default when absent), or None if it is not 1..max."""
    if raw is None:
        return DEFAULT_RECV_WINDOW_MS
    window = parse_timestamp(raw)
    return window if window is not None and 0 < window <= MAX_RECV_WINDOW_MS else None


def is_fresh(*, timestamp_ms: int, now_ms: int, recv_window_ms: int) -> bool:
    return now_ms - recv_window_ms <= timestamp_ms <= now_ms + FUTURE_TOLERANCE_MS


# How long a signature is remembered: as long as a request with it could be fresh under the
# largest window (a request first seen at its future tolerance stays fresh that long).
REPLAY_MEMORY_MS = MAX_RECV_WINDOW_MS + FUTURE_TOLERANCE_MS

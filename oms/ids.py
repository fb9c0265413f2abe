"""Name-based (version 5) UUIDs, built without `uuid.uuid5`'s validation overhead, and
order ids parsed once.

The processor derives every id it writes (events, trades, fills, ledger transactions) from
the input that caused it, so a replay derives the same ids; a batch of 500 orders derives
thousands. `uuid.uuid5` spends most of its time in `UUID.__init__`'s argument checks, not
in SHA-1: this builds the same UUID from the same digest directly, or only its text where
the text is all that is kept (event ids)."""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

_VARIANT_MASK = ~(0xC000 << 48)
_RFC_4122 = 0x8000 << 48
_VERSION_MASK = ~(0xF000 << 64)
_VERSION_5 = 5 << 76
_new_uuid = object.__new__
_set = object.__setattr__
# The variant nibble of the text form: its two top bits set to 10 (RFC 4122).
_VARIANT_NIBBLE = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


@lru_cache(maxsize=64)
def _namespace_bytes(namespace: uuid.UUID) -> bytes:
    return namespace.bytes


def _digest(namespace: uuid.UUID, name: str) -> bytes:
    return hashlib.sha1(_namespace_bytes(namespace) + name.encode(),
                        usedforsecurity=False).digest()


def _uuid_of(digest: bytes) -> uuid.UUID:
    value = int.from_bytes(digest[:16], "big") & _VARIANT_MASK & _VERSION_MASK
    made: uuid.UUID = _new_uuid(uuid.UUID)
    _set(made, "int", value | _RFC_4122 | _VERSION_5)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made


def _text_of(digest: bytes) -> str:
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT_NIBBLE[h[16]]}{h[17:20]}-{h[20:]}"


def name_based_uuid(namespace: uuid.UUID, name: str) -> uuid.UUID:
    """Equal to `uuid.uuid5(namespace, name)`."""
    return _uuid_of(_digest(namespace, name))


def name_based_id(namespace: uuid.UUID, name: str) -> str:
    """Equal to `str(uuid.uuid5(namespace, name))`, without making the UUID."""
    return _text_of(_digest(namespace, name))


def name_based_uuid_and_id(namespace: uuid.UUID, name: str) -> tuple[uuid.UUID, str]:
    """`name_based_uuid` and its text, without `UUID.__str__`."""
    digest = _digest(namespace, name)
    return _uuid_of(digest), _text_of(digest)


class NameSeries:
    """The name-based ids of names that share a beginning (the events, trades and fills one
    input causes: `{input}:1`, `{input}:2`, ...), that beginning hashed once: each id then
    hashes only its own end. Equal to `name_based_uuid(namespace, prefix + end)`."""

    __slots__ = ("_started",)

    def __init__(self, namespace: uuid.UUID, prefix: str) -> None:
        self._started = hashlib.sha1(_namespace_bytes(namespace) + prefix.encode(),
                                     usedforsecurity=False)

    def _digest(self, end: str) -> bytes:
        hashed = self._started.copy()
        hashed.update(end.encode())
        return hashed.digest()

    def text(self, end: str) -> str:
        return _text_of(self._digest(end))

    def uuid_and_text(self, end: str) -> tuple[uuid.UUID, str]:
        """The id and its text, without `UUID.__str__`."""
        digest = self._digest(end)
        return _uuid_of(digest), _text_of(digest)


@lru_cache(maxsize=65_536)
def parse_uuid(text: str) -> uuid.UUID:
    """`uuid.UUID(text)`, remembered: an order id is parsed several times in a batch (its
    state, its working row, its fills), and `UUID.__init__` is slow."""
    return uuid.UUID(text)

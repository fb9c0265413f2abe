"""Name-based (version 5) UUIDs, built without `uuid.uuid5`'s validation overhead.

The processor derives every id it writes (events, trades, fills, ledger transactions) from
the input that caused it, so a replay derives the same ids; a batch of 500 orders derives
thousands. `uuid.uuid5` spends most of its time in `UUID.__init__`'s argument checks, not
in SHA-1: this builds the same UUID from the same digest directly."""

from __future__ import annotations

import hashlib
import uuid

_VARIANT_MASK = ~(0xC000 << 48)
_RFC_4122 = 0x8000 << 48
_VERSION_MASK = ~(0xF000 << 64)
_VERSION_5 = 5 << 76
_new_uuid = object.__new__
_set = object.__setattr__


def name_based_uuid(namespace: uuid.UUID, name: str) -> uuid.UUID:
    """Equal to `uuid.uuid5(namespace, name)`."""
    digest = hashlib.sha1(namespace.bytes + name.encode(), usedforsecurity=False).digest()
    value = int.from_bytes(digest[:16], "big") & _VARIANT_MASK & _VERSION_MASK
    made: uuid.UUID = _new_uuid(uuid.UUID)
    _set(made, "int", value | _RFC_4122 | _VERSION_5)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made

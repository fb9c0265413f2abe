"""The sequence and the resume window of every live stream, in Redis.

Each stream (`md.{symbol}.{channel}` public, `orders.{user_id}` private) has a counter and
a Redis Stream holding its recent messages (at least `STREAM_WINDOW_SECONDS`). Every
WebSocket process tails `prices` and `executions` itself, so every process offers every
event here: the first offer of an event gives it the stream's next sequence and appends
it to the window; a later offer (another process) only learns that sequence. So all
processes send the same sequence for the same message, and a client may resume on any
of them.

The book channel is sequenced already (the processor numbers each symbol's book events,
D5): its own `sequence` is the stream's, so a snapshot read from the marketdata cache and
the deltas of the window line up exactly.

A message is stored as the exact text clients receive (the body with `"seq"` appended),
so a replay is byte for byte what the live stream sent."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from redis.commands.core import Script

from oms.redis import redis_client

# Number one message (KEYS: window, counter, the event's sequence; ARGV: the given
# sequence or '', the body, the window's seconds, the counter's lifetime).
_SEQUENCE = """
local known = redis.call('GET', KEYS[3])
if known then return tonumber(known) end
local window = tonumber(ARGV[3])
local seq
if ARGV[1] == '' then
  seq = redis.call('INCR', KEYS[2])
else
  seq = tonumber(ARGV[1])
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  if seq <= last then
    redis.call('SET', KEYS[3], seq, 'EX', window)
    return seq
  end
  redis.call('SET', KEYS[2], seq)
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
local now = redis.call('TIME')
local oldest = (tonumber(now[1]) - window) * 1000
local body = ARGV[2]
redis.call('XADD', KEYS[1], 'MINID', '~', oldest, '*', 's', seq,
           'm', string.sub(body, 1, -2) .. ',"seq":' .. seq .. '}')
redis.call('EXPIRE', KEYS[1], window)
redis.call('SET', KEYS[3], seq, 'EX', window)
return seq
"""

# The messages after `since`, newest last, if the window still holds all of them and
# there are at most `limit`; -1 otherwise. The window holds consecutive sequences up to
# the counter (trimmed only at its old end), so the last `n` entries are exactly them.
_SINCE = """
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = last - tonumber(ARGV[1])
if n <= 0 then return {last, {}} end
if n > tonumber(ARGV[2]) then return {last, -1} end
return {last, redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', n)}
"""


@dataclass(frozen=True, slots=True)
class Offer:
    """One message offered to a stream: `body` is its JSON object without `seq`;
    `seq` is given for streams numbered upstream (the book), else None."""

    stream: str
    event_id: str
    body: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Sequenced:
    stream: str
    seq: int
    text: str  # what the client receives


@dataclass(frozen=True, slots=True)
class Replay:
    """What a stream holds after a sequence: `messages` (consecutive, oldest first), or
    None when the window no longer holds them all (a gap); `latest` is the stream's last
    sequence."""

    latest: int
    messages: list[Sequenced] | None


def with_seq(body: str, seq: int) -> str:
    """The client's text of a body: the same splice the script makes."""
    return f'{body[:-1]},"seq":{seq}}}'


def _counter(stream: str) -> str:
    return f"stream-seq:{stream}"


def _window(stream: str) -> str:
    return f"stream:{stream}"


@functools.cache
def _scripts() -> tuple[Script, Script]:
    client = redis_client()
    return client.register_script(_SEQUENCE), client.register_script(_SINCE)


def sequence(offers: Iterable[Offer]) -> list[Sequenced]:
    """Number a batch of messages and append the new ones to their windows, in one round
    trip; the result is in the order of `offers`."""
    offers = list(offers)
    if not offers:
        return []
    script = _scripts()[0]
    pipeline = redis_client().pipeline(transaction=False)
    window, counter_ttl = settings.STREAM_WINDOW_SECONDS, settings.STREAM_SEQUENCE_TTL_SECONDS
    for offer in offers:
        script(keys=[_window(offer.stream), _counter(offer.stream),
                     f"stream-event:{offer.event_id}"],
               args=["" if offer.seq is None else offer.seq, offer.body, window, counter_ttl],
               client=pipeline)
    seqs = pipeline.execute()
    return [Sequenced(offer.stream, int(seq), with_seq(offer.body, int(seq)))
            for offer, seq in zip(offers, seqs, strict=True)]


def since(stream: str, seq: int, *, limit: int) -> Replay:
    """The messages of `stream` after `seq` (at most `limit` of them), from the window."""
    latest, entries = _scripts()[1](keys=[_window(stream), _counter(stream)],
                                    args=[seq, limit])
    if entries == -1 or seq > int(latest):  # too far back, or the counter started over
        return Replay(int(latest), None)
    messages = [Sequenced(stream, int(fields[b"s"]), fields[b"m"].decode())
                for _id, fields in reversed([(entry[0], _pairs(entry[1]))
                                             for entry in entries])]
    expected = list(range(seq + 1, int(latest) + 1))
    if [message.seq for message in messages] != expected:
        return Replay(int(latest), None)  # trimmed, or a stretch no process sequenced
    return Replay(int(latest), messages)


def latest(stream: str) -> int:
    """The stream's last sequence (0 for a stream that has none yet)."""
    return int(redis_client().get(_counter(stream)) or 0)


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))

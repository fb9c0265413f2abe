"""The admission of one order request, in one Redis round trip (a Lua script, atomic):
count it against its rate limits (per user and per client address), claim its
`Idempotency-Key` and claim its client order id. Before it, order entry made four round
trips for these; after it comes only the acknowledged publish and one more script (the
entry cache and the stored response, `services.publish_new_order`).

The script stops at the first thing that refuses the request, leaving nothing claimed:
- over a rate limit: the counters are counted (as DRF's throttles count every request),
  nothing is claimed: `THROTTLED`, with the seconds until the longest exceeded window ends;
- the key already has a record (replay, another body, in flight, unknown outcome):
  `STORED`, with the record for `idempotency.judge`;
- the client order id belongs to another order: the key just claimed is released again:
  `DUPLICATE`;
- else both are claimed: `ADMITTED`.

Requests that cannot be placed are counted all the same, so a 429 still wins over their
400: `count` (a malformed request) counts only; `peek` (an order the instrument's rules
refuse) counts and reads the key's record, since a replay or a reused key is answered
before the rules are (`UNCLAIMED` when it has none)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from oms.api.throttling import RateWindow
from oms.redis import lua_script, run_script

# KEYS: the rate counters, then the idempotency record and the client order id's claim.
# ARGV: the counters' number, the mode (count, peek, claim), whether a key was given, the
# in-flight record and its TTL, the order id and the claim's TTL, then per counter its
# limit and TTL.
_ADMIT = """
local n = tonumber(ARGV[1])
local throttled = {}
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[7 + 2 * i])
  if count > tonumber(ARGV[6 + 2 * i]) then throttled[#throttled + 1] = i end
end
if #throttled > 0 then return {'throttled', unpack(throttled)} end
local mode = ARGV[2]
if mode == 'count' then return {'counted'} end
local record, claim = KEYS[n + 1], KEYS[n + 2]
local keyed = ARGV[3] == '1'
if keyed then
  if mode == 'peek' then
    local stored = redis.call('GET', record)
    if stored then return {'stored', stored} end
    return {'unclaimed'}
  end
  if not redis.call('SET', record, ARGV[4], 'NX', 'EX', ARGV[5]) then
    return {'stored', redis.call('GET', record)}
  end
end
if mode == 'peek' then return {'unclaimed'} end
if not redis.call('SET', claim, ARGV[6], 'NX', 'EX', ARGV[7]) then
  if redis.call('GET', claim) ~= ARGV[6] then
    if keyed then redis.call('DEL', record) end
    return {'duplicate'}
  end
end
return {'admitted'}
"""


class Verdict(Enum):
    ADMITTED = "admitted"
    THROTTLED = "throttled"
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNCLAIMED = "unclaimed"
    COUNTED = "counted"


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    wait_seconds: float = 0.0  # THROTTLED
    stored: bytes | None = None  # STORED: the key's record


def _run(windows: list[RateWindow], *, mode: str, record_key: str | None = None,
         in_flight: str = "", record_seconds: int = 0, order_id: str = "",
         claim_key: str = "", claim_seconds: int = 0) -> Admission:
    args: list[str | int] = [len(windows), mode, "0" if record_key is None else "1",
                             in_flight, record_seconds, order_id, claim_seconds]
    for window in windows:
        args += [window.limit, window.ttl_seconds]
    keys = [window.key for window in windows] + [record_key or "", claim_key]
    reply = run_script(lua_script(_ADMIT), keys, args)
    verdict = Verdict(reply[0].decode())
    if verdict is Verdict.THROTTLED:
        return Admission(verdict, wait_seconds=max(windows[int(i) - 1].ends_in
                                                   for i in reply[1:]))
    return Admission(verdict, stored=reply[1] if verdict is Verdict.STORED else None)


def count(windows: list[RateWindow]) -> Admission:
    """Count a request that will not be placed: `THROTTLED` or `COUNTED`."""
    return _run(windows, mode="count")


def peek(windows: list[RateWindow], *, record_key: str | None) -> Admission:
    """Count an order the rules refuse and read its key's record: `THROTTLED`, `STORED` or
    `UNCLAIMED`."""
    return _run(windows, mode="peek", record_key=record_key)


def claim(windows: list[RateWindow], *, record_key: str | None, in_flight: str,
          record_seconds: int, order_id: str, claim_key: str, claim_seconds: int
          ) -> Admission:
    """Count an order and claim its key (`record_key`, with the `in_flight` record; None
    without a key) and its client order id (`claim_key`, holding `order_id`):
    `THROTTLED`, `STORED`, `DUPLICATE` or `ADMITTED`. Raises `redis.RedisError`."""
    return _run(windows, mode="claim", record_key=record_key, in_flight=in_flight,
                record_seconds=record_seconds, order_id=order_id, claim_key=claim_key,
                claim_seconds=claim_seconds)

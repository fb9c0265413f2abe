"""A proposed set of risk limits, read from a file (JSON or TOML) for a what-if replay
(`manage.py replay --risk-config FILE`): which orders of the recorded flow would these
limits have rejected?

The file names scopes as the limits table does and, in each, the limits to change; every
other limit stays as the live run had it (the proposal is laid over the live limits, as
`set_limits` would change them):

    [[limits]]                  # JSON: {"limits": [{"user": "alice", ...}, ...]}
    user = "alice"              # a username; absent: every account
    symbol = "BTC-USDT"         # an instrument; absent or "": every instrument
    max_order_notional = "1000" # decimals as strings or numbers; integers for counts
    daily_loss = "none"         # "none" (or JSON null): no limit at this scope

Names are the fields of `Limits`. Everything is checked before anything runs, and every
problem is reported at once with where it is (`limits[2].max_position: ...`)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from apps.risk.domain.checks import Limits
from oms.money import DECIMAL_PLACES, MAX_DIGITS, InvalidAmount, parse_amount

FORMATS = ("json", "toml")
LIMIT_NAMES = tuple(f.name for f in fields(Limits))
# Limits that count (orders): whole numbers; the others are amounts or fractions.
COUNTED = frozenset({"max_open_orders", "max_orders_per_second", "max_orders_per_minute"})
SCOPE_KEYS = ("user", "symbol")
NO_LIMIT = "none"

LimitValue = Decimal | int | None


class LimitProposalError(ValueError):
    """The file cannot be used; `problems` says each reason and where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ProposedScope:
    """The limits one scope changes: `user` a username (None: every account), `symbol`
    an instrument ("" every one), `values` by limit name (None removes it)."""

    user: str | None
    symbol: str
    values: Mapping[str, LimitValue]


@dataclass(frozen=True, slots=True)
class LimitProposal:
    scopes: tuple[ProposedScope, ...]

    @property
    def usernames(self) -> set[str]:
        return {scope.user for scope in self.scopes if scope.user is not None}

    @property
    def symbols(self) -> set[str]:
        return {scope.symbol for scope in self.scopes if scope.symbol}


def format_of(filename: str) -> str:
    """The file's format by its extension (`.json`, `.toml`)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FORMATS:
        raise LimitProposalError([f"{filename}: expected a .json or .toml file"])
    return extension


def parse_limit_proposal(text: str, *, file_format: str) -> LimitProposal:
    """The proposal written in `text` (`json` or `toml`); `LimitProposalError` naming
    every problem otherwise. Numbers are read as exact decimals, never floats."""
    try:
        document = (json.loads(text, parse_float=Decimal) if file_format == "json"
                    else tomllib.loads(text, parse_float=Decimal))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise LimitProposalError([f"not valid {file_format.upper()}: {exc}"]) from None
    if not isinstance(document, dict) or set(document) != {"limits"} \
            or not isinstance(document["limits"], list) or not document["limits"]:
        raise LimitProposalError(['expected one key, "limits": a non-empty list of scopes'])
    problems: list[str] = []
    scopes = [_scope(entry, f"limits[{n}]", problems)
              for n, entry in enumerate(document["limits"])]
    seen: dict[tuple[str | None, str], int] = {}
    for n, scope in enumerate(scopes):
        if scope is None:
            continue
        where = (scope.user, scope.symbol)
        if where in seen:
            problems.append(f"limits[{n}]: the same scope as limits[{seen[where]}]")
        seen.setdefault(where, n)
    if problems:
        raise LimitProposalError(problems)
    return LimitProposal(scopes=tuple(scope for scope in scopes if scope is not None))


def _scope(entry: object, where: str, problems: list[str]) -> ProposedScope | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: expected a table of limits")
        return None
    before = len(problems)
    user, symbol = entry.get("user"), entry.get("symbol", "")
    if user is not None and (not isinstance(user, str) or not user):
        problems.append(f"{where}.user: expected a username")
    if not isinstance(symbol, str):
        problems.append(f"{where}.symbol: expected an instrument such as BTC-USDT")
    unknown = sorted(set(entry) - set(SCOPE_KEYS) - set(LIMIT_NAMES))
    if unknown:
        problems.append(f"{where}: unknown limits {unknown}; known: {', '.join(LIMIT_NAMES)}")
    values: dict[str, LimitValue] = {}
    for name in LIMIT_NAMES:
        if name in entry:
            values[name] = _value(entry[name], f"{where}.{name}", name in COUNTED, problems)
    if not values and not unknown:
        problems.append(f"{where}: names no limit")
    if len(problems) > before:
        return None
    return ProposedScope(user=user, symbol=str(symbol), values=values)


def _value(raw: object, where: str, counted: bool, problems: list[str]) -> LimitValue:
    if raw is None or (isinstance(raw, str) and raw.lower() == NO_LIMIT):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        problems.append(f"{where}: expected a number or \"{NO_LIMIT}\"")
        return None
    try:
        value = parse_amount(raw)
    except InvalidAmount as exc:
        problems.append(f"{where}: {exc}")
        return None
    if value < 0:
        problems.append(f"{where}: cannot be negative")
    elif _places(value) > DECIMAL_PLACES or value.adjusted() >= MAX_DIGITS - DECIMAL_PLACES:
        problems.append(f"{where}: at most {MAX_DIGITS - DECIMAL_PLACES} digits before the "
                        f"point and {DECIMAL_PLACES} after it")
    elif counted and value != value.to_integral_value():
        problems.append(f"{where}: must be a whole number (it counts orders)")
    else:
        return int(value) if counted else value
    return None


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0

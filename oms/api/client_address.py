"""Which address a request came from, for rate limits and the audit log.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
it was written by proxies we run: `OMS_TRUSTED_PROXIES` lists their networks (CIDRs; none
by default, and then the socket address is the client). When the socket address is a
trusted proxy, the header is read from the right, skipping addresses that are trusted
proxies too; the first one that is not is the client. Anything to its left was written by
the client and is ignored, so a forged header cannot make a request look new."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(meta: Mapping[str, Any]) -> str:
    """The client's address from a request's `META` (Django's or DRF's request)."""
    remote = str(meta.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(settings.OMS_TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(hop, networks):
            return hop
    return remote

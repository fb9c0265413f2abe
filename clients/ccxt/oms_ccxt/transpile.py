"""Writes `async_support/oms.py` from `sync.py`, as ccxt derives its async classes from the
sync ones: every method becomes a coroutine and every call that reaches the venue is
awaited. `python -m oms_ccxt.transpile` (from clients/ccxt); `--check` fails on drift."""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
AWAITED = re.compile(
    r"self\.((?:public|private|health)_\w+|load_markets|fetch_ticker|fetch_order|"
    r"fetch_orders_with|until_decided|until_amended|sleep)\(")


def asynchronous(source: str) -> str:
    source = source.replace(
        '"""The synchronous ccxt class of the Crypto OMS. `async_support/oms.py` is the same '
        "class\nfor asyncio, generated from this file (`python -m oms_ccxt.transpile`): "
        'edit here."""',
        '"""The asyncio ccxt class of the Crypto OMS. GENERATED from `oms_ccxt/sync.py` by\n'
        '`python -m oms_ccxt.transpile`: do not edit."""')
    source = source.replace(
        "from ccxt.base.errors import OrderNotFound\nfrom ccxt.base.exchange import Exchange",
        "from ccxt.async_support.base.exchange import Exchange\n"
        "from ccxt.base.errors import OrderNotFound")
    source = source.replace("    def ", "    async def ")
    source = AWAITED.sub(lambda m: "await " + m.group(0), source)
    return source.replace("return self.fetch_orders_with(", "return self.fetch_orders_with(")


def main() -> int:
    target = HERE / "async_support" / "oms.py"
    generated = asynchronous((HERE / "sync.py").read_text())
    if "--check" in sys.argv:
        return 0 if target.read_text() == generated else 1
    target.write_text(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

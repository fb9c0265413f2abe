"""The asyncio flavour: `oms_ccxt.async_support.oms`, like `ccxt.async_support.<id>`."""

from oms_ccxt.async_support.oms import oms

__all__ = ["oms"]

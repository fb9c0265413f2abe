"""ccxt's unified API for the Crypto OMS: `oms_ccxt.oms` (sync) and
`oms_ccxt.async_support.oms` (asyncio), subclasses of ccxt's `Exchange`.

    import oms_ccxt
    venue = oms_ccxt.oms({"urls": {"api": {"rest": "http://127.0.0.1:8000"}},
                          "token": "<API token>"})            # or apiKey + secret
    venue.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)"""

from oms_ccxt.sync import oms

__all__ = ["oms"]

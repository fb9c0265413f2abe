import { useCallback, useEffect, useState } from "react";
import type { Candle, CandleInterval, Instrument, Price, PublicTrade } from "../domain/types";
import { api } from "../services/api";
import type { MarketDataClient } from "../services/websocket";
import { useResource } from "./useResource";

export function useInstruments(): Instrument[] | null {
  return useResource(api.instruments).data;
}

const CANDLE_POLL_MS = 5_000;
/** Candles shown per interval: an hour of minutes, five hours of 5 m, two days of hours. */
export const CANDLE_LIMITS: Record<CandleInterval, number> = { "1m": 60, "5m": 60, "1h": 48 };

/** The last candles of `symbol` at `interval`, read again on each `tradeCount` change (a
 * trade on the venue, coalesced) and every few seconds for the interval's boundary. */
export function useCandles(symbol: string | null, interval: CandleInterval, tradeCount: number
): Candle[] | null {
  const limit = CANDLE_LIMITS[interval];
  const load = useCallback(() => api.candles(symbol ?? "", interval, limit), [symbol, interval, limit]);
  const candles = useResource<Candle[]>(symbol ? load : null, 300);
  const { refresh } = candles;
  useEffect(() => {
    if (tradeCount > 0) refresh();
  }, [tradeCount, refresh]);
  useEffect(() => {
    const timer = setInterval(refresh, CANDLE_POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  return candles.data;
}

const PRICES_POLL_MS = 10_000;

/** The symbol's 24 h figures (REST), read again after trades (coalesced) and every 10 s. */
export function usePrices(symbol: string | null, tradeCount: number): Price | null {
  const load = useCallback(() => api.prices(symbol ?? ""), [symbol]);
  const prices = useResource<Price>(symbol ? load : null, 1_000);
  const { refresh } = prices;
  useEffect(() => {
    if (tradeCount > 0) refresh();
  }, [tradeCount, refresh]);
  useEffect(() => {
    const timer = setInterval(refresh, PRICES_POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  return prices.data;
}

export const TAPE_SIZE = 40;

/** The venue's public trades of `symbol`, newest first: the recent ones over REST, then
 * each live one from `/ws/market-data` (its time is when it arrived: the stream's trade
 * carries none). Read again over REST on every reconnect. */
export function useTape(client: MarketDataClient, symbol: string | null): PublicTrade[] | null {
  const [trades, setTrades] = useState<PublicTrade[] | null>(null);
  useEffect(() => {
    setTrades(null);
    if (!symbol) return undefined;
    let live = true;
    const merge = (incoming: PublicTrade[]) => setTrades((current) => {
      const seen = new Set<string>();
      return [...incoming, ...(current ?? [])].filter((trade) => {
        if (seen.has(trade.trade_id)) return false;
        seen.add(trade.trade_id);
        return true;
      }).sort((a, b) => b.traded_at.localeCompare(a.traded_at)).slice(0, TAPE_SIZE);
    });
    const load = () => api.trades(symbol, TAPE_SIZE).then((read) => { if (live) merge(read); }, () => {});
    load();
    const stopTrades = client.subscribe(symbol, "trades", (trade) => merge([{
      trade_id: trade.trade_id, price: trade.price, quantity: trade.quantity,
      taker_side: trade.taker_side, traded_at: new Date().toISOString(),
    }]));
    const stopStatus = client.socket.onStatus((status) => { if (status === "open") load(); });
    return () => { live = false; stopTrades(); stopStatus(); };
  }, [client, symbol]);
  return trades;
}

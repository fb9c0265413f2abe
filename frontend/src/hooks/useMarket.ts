import { useCallback, useEffect } from "react";
import type { Candle, Instrument } from "../domain/types";
import { api } from "../services/api";
import { useResource } from "./useResource";

export function useInstruments(): Instrument[] | null {
  return useResource(api.instruments).data;
}

const CANDLE_POLL_MS = 10_000;

/** The last `limit` one-minute candles of `symbol`, read again on each `tradeCount` change
 * (a trade on the venue) and every few seconds for the minute boundary. */
export function useCandles(symbol: string | null, tradeCount: number, limit = 60): Candle[] | null {
  const load = useCallback(() => api.candles(symbol ?? "", "1m", limit), [symbol, limit]);
  const candles = useResource<Candle[]>(symbol ? load : null, 500);
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

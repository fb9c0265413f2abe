import { useCallback, useEffect, useState, useSyncExternalStore } from "react";
import type { Book } from "../domain/book";
import type {
  MarketDataClient, ReconnectingSocket, SocketStatus, Ticker,
} from "../services/websocket";

/** A stream client made once, connected while `enabled` and the component is mounted. */
export function useStream<T extends { socket: ReconnectingSocket }>(create: () => T, enabled = true): T {
  const [stream] = useState(create);
  useEffect(() => {
    if (!enabled) return undefined;
    stream.socket.start();
    return () => stream.socket.stop();
  }, [stream, enabled]);
  return stream;
}

export function useSocketStatus(socket: ReconnectingSocket): SocketStatus {
  const subscribe = useCallback((notify: () => void) => socket.onStatus(notify), [socket]);
  return useSyncExternalStore(subscribe, () => socket.status);
}

/** The live book of `symbol`: null until its snapshot (and after a gap, until the next). */
export function useBook(client: MarketDataClient, symbol: string | null): Book | null {
  const [book, setBook] = useState<Book | null>(null);
  useEffect(() => {
    setBook(null);
    return symbol ? client.subscribe(symbol, "book", setBook) : undefined;
  }, [client, symbol]);
  return book;
}

export function useTicker(client: MarketDataClient, symbol: string | null): Ticker | null {
  const [ticker, setTicker] = useState<Ticker | null>(null);
  useEffect(() => {
    setTicker(null);
    return symbol ? client.subscribe(symbol, "ticker", setTicker) : undefined;
  }, [client, symbol]);
  return ticker;
}

/** Counts the venue's trades of `symbol` as they stream, to refresh what depends on them. */
export function useTradeCount(client: MarketDataClient, symbol: string | null): number {
  const [count, setCount] = useState(0);
  useEffect(
    () => (symbol ? client.subscribe(symbol, "trades", () => setCount((n) => n + 1)) : undefined),
    [client, symbol],
  );
  return count;
}

/** The live tickers of several symbols (for marks), by symbol. */
export function useTickers(client: MarketDataClient, symbols: readonly string[]): ReadonlyMap<string, Ticker> {
  const [tickers, setTickers] = useState<ReadonlyMap<string, Ticker>>(new Map());
  const key = symbols.join(",");
  useEffect(() => {
    const stops = key.split(",").filter(Boolean).map((symbol) => client.subscribe(symbol, "ticker",
      (ticker) => setTickers((current) => new Map(current).set(symbol, ticker))));
    return () => { for (const stop of stops) stop(); };
  }, [client, key]);
  return tickers;
}

import { useCallback, useEffect, useMemo, useState } from "react";
import { Balances } from "./components/Balances";
import { ConnectionIndicator } from "./components/ConnectionIndicator";
import { OpenOrders } from "./components/OpenOrders";
import { OrderBook } from "./components/OrderBook";
import { OrderHistory } from "./components/OrderHistory";
import { PositionTable } from "./components/PositionTable";
import { PriceChart } from "./components/PriceChart";
import { SessionControls } from "./components/SessionControls";
import { SymbolPicker } from "./components/SymbolPicker";
import { TickerBar } from "./components/TickerBar";
import { TradeForm } from "./components/TradeForm";
import { TradeHistory } from "./components/TradeHistory";
import { TradeTape } from "./components/TradeTape";
import type { CandleInterval } from "./domain/types";
import { useAccount } from "./hooks/useAccount";
import { useCandles, useInstruments, usePrices, useTape } from "./hooks/useMarket";
import { useOrders } from "./hooks/useOrders";
import { useSession } from "./hooks/useSession";
import { useBook, useStream, useTicker, useTickers, useTradeCount } from "./hooks/useWebSocket";
import { LOGIN_URL } from "./services/api";
import { MarketDataClient, OrdersStream } from "./services/websocket";

export function App() {
  const session = useSession();
  const signedIn = session === "signed-in";
  const instruments = useInstruments();
  const [symbol, setSymbol] = useState<string | null>(null);
  const [interval, setCandleInterval] = useState<CandleInterval>("1m");
  const [picked, setPicked] = useState<{ price: string; nonce: number } | null>(null);

  const market = useStream(() => new MarketDataClient());
  const ordersStream = useStream(() => new OrdersStream(), signedIn);
  const book = useBook(market, symbol);
  const ticker = useTicker(market, symbol);
  const tradeCount = useTradeCount(market, symbol);
  const candles = useCandles(symbol, interval, tradeCount);
  const prices = usePrices(symbol, tradeCount);
  const tape = useTape(market, symbol);
  const orders = useOrders(ordersStream, signedIn);
  const account = useAccount(ordersStream, signedIn);
  const positionSymbols = useMemo(
    () => (account.positions ?? []).map((p) => p.symbol).sort(), [account.positions]);
  const tickers = useTickers(market, positionSymbols);
  const marks = useMemo(() => {
    const result = new Map<string, string>();
    for (const [name, t] of tickers) {
      const mark = t.reference_price ?? t.last_trade_price;
      if (mark) result.set(name, mark);
    }
    return result;
  }, [tickers]);
  const available = useMemo(
    () => new Map((account.balances ?? []).map((b) => [b.asset, b.available])), [account.balances]);

  useEffect(() => {
    if (symbol === null && instruments?.[0]) setSymbol(instruments[0].symbol);
  }, [instruments, symbol]);
  const pickPrice = useCallback((price: string) => setPicked((p) => ({ price, nonce: (p?.nonce ?? 0) + 1 })), []);
  const instrument = instruments?.find((i) => i.symbol === symbol);

  return (
    <div className="app">
      <header className="topbar">
        <h1>Crypto OMS</h1>
        {instruments && <SymbolPicker instruments={instruments} symbol={symbol} onChange={setSymbol} />}
        <TickerBar ticker={ticker} prices={prices} baseAsset={instrument?.base_asset} />
        <ConnectionIndicator market={market.socket} orders={ordersStream.socket} />
        <SessionControls session={session} />
      </header>
      <main className="layout">
        <div className="left">
          <OrderBook book={book} tickSize={instrument?.tick_size} onPickPrice={pickPrice} />
        </div>
        <div className="center">
          {symbol && (
            <PriceChart symbol={symbol} candles={candles} interval={interval} onInterval={setCandleInterval}
              referencePrice={ticker?.reference_price ?? prices?.reference_price ?? null} />
          )}
          {signedIn && (
            <>
              <OpenOrders orders={orders.openOrders} instruments={instruments ?? []}
                onCancel={orders.cancel} onAmend={orders.amend} onCancelAll={orders.cancelAll} />
              {orders.notice && <p className="notice" role="status">{orders.notice}</p>}
              <OrderHistory orders={orders.history} />
              <TradeHistory fills={orders.fills} />
            </>
          )}
        </div>
        <aside className="side">
          {session === "signed-out" && (
            <section className="panel login" aria-label="Trading">
              <h2>Trading</h2>
              <p>Log in to place orders and see your balances.</p>
              <a className="button primary" href={LOGIN_URL}>Log in</a>
            </section>
          )}
          {session === "unavailable" && (
            <p className="field-error" role="alert">The API is unavailable; reload to retry.</p>
          )}
          {signedIn && instrument && (
            <TradeForm key={instrument.symbol} instrument={instrument} pickedPrice={picked} onPlace={orders.place}
              best={{ bid: ticker?.best_bid ?? null, ask: ticker?.best_ask ?? null }} available={available}
              ordersStream={ordersStream} />
          )}
          {symbol && <TradeTape trades={tape} symbol={symbol} />}
          {signedIn && <Balances balances={account.balances} />}
          {signedIn && <PositionTable positions={account.positions} marks={marks} />}
        </aside>
      </main>
    </div>
  );
}

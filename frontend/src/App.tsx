import { useCallback, useEffect, useState } from "react";
import { Balances } from "./components/Balances";
import { ConnectionIndicator } from "./components/ConnectionIndicator";
import { OpenOrders } from "./components/OpenOrders";
import { OrderBook } from "./components/OrderBook";
import { PositionTable } from "./components/PositionTable";
import { PriceChart } from "./components/PriceChart";
import { SessionControls } from "./components/SessionControls";
import { SymbolPicker } from "./components/SymbolPicker";
import { TickerBar } from "./components/TickerBar";
import { TradeForm } from "./components/TradeForm";
import { TradeHistory } from "./components/TradeHistory";
import { useAccount } from "./hooks/useAccount";
import { useCandles, useInstruments } from "./hooks/useMarket";
import { useOrders } from "./hooks/useOrders";
import { useSession } from "./hooks/useSession";
import { useBook, useStream, useTicker, useTradeCount } from "./hooks/useWebSocket";
import { LOGIN_URL } from "./services/api";
import { MarketDataClient, OrdersStream } from "./services/websocket";

export function App() {
  const session = useSession();
  const signedIn = session === "signed-in";
  const instruments = useInstruments();
  const [symbol, setSymbol] = useState<string | null>(null);
  const [picked, setPicked] = useState<{ price: string; nonce: number } | null>(null);

  const market = useStream(() => new MarketDataClient());
  const ordersStream = useStream(() => new OrdersStream(), signedIn);
  const book = useBook(market, symbol);
  const ticker = useTicker(market, symbol);
  const candles = useCandles(symbol, useTradeCount(market, symbol));
  const orders = useOrders(ordersStream, signedIn);
  const account = useAccount(ordersStream, signedIn);

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
        <TickerBar ticker={ticker} />
        <ConnectionIndicator market={market.socket} orders={ordersStream.socket} />
        <SessionControls session={session} />
      </header>
      <main className="layout">
        <OrderBook book={book} onPickPrice={pickPrice} />
        <div className="center">
          {symbol && <PriceChart symbol={symbol} candles={candles} />}
          {signedIn && (
            <>
              <OpenOrders orders={orders.openOrders} instruments={instruments ?? []}
                onCancel={orders.cancel} onAmend={orders.amend} />
              {orders.notice && <p className="notice" role="status">{orders.notice}</p>}
              <TradeHistory fills={orders.fills} />
            </>
          )}
        </div>
        <aside className="side">
          {session === "signed-out" && (
            <section className="panel">
              <h2>Trading</h2>
              <p>Log in to place orders and see your balances.</p>
              <a className="button" href={LOGIN_URL}>Log in</a>
            </section>
          )}
          {session === "unavailable" && (
            <p className="field-error" role="alert">The API is unavailable; reload to retry.</p>
          )}
          {signedIn && instrument && (
            <TradeForm key={instrument.symbol} instrument={instrument} pickedPrice={picked} onPlace={orders.place} />
          )}
          {signedIn && <Balances balances={account.balances} />}
          {signedIn && <PositionTable positions={account.positions} />}
        </aside>
      </main>
    </div>
  );
}

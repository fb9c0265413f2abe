import type { PublicTrade } from "../domain/types";

/** The venue's public trades of the symbol, newest first, live. */
export function TradeTape({ trades, symbol }: { trades: PublicTrade[] | null; symbol: string }) {
  return (
    <section className="panel tape" aria-label="Trades" tabIndex={0} /* scrolls sideways on narrow screens */>
      <h2>Trades <span className="muted">{symbol}</span></h2>
      {trades === null ? <p className="muted">Loading…</p>
        : trades.length === 0 ? <p className="muted">No trades on the venue yet.</p> : (
          <table>
            <thead><tr><th>Time</th><th className="num">Price</th><th className="num">Quantity</th></tr></thead>
            <tbody>
              {trades.map((trade) => (
                <tr key={trade.trade_id} data-trade-id={trade.trade_id} data-side={trade.taker_side} data-price={trade.price}>
                  <td>{new Date(trade.traded_at).toLocaleTimeString()}</td>
                  <td className={`num ${trade.taker_side === "buy" ? "buy" : "sell"}`}>
                    {trade.price}<span className="visually-hidden"> {trade.taker_side}</span>
                  </td>
                  <td className="num">{trade.quantity}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

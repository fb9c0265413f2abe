import type { Ticker } from "../services/websocket";

/** The symbol's live prices: the feed's reference price and the venue's own. */
export function TickerBar({ ticker }: { ticker: Ticker | null }) {
  const item = (label: string, value: string | null | undefined) => (
    <span className="ticker-item"><span className="muted">{label}</span> {value ?? "–"}</span>
  );
  return (
    <div className="ticker" aria-label="Ticker" data-testid="ticker">
      {item("Reference", ticker?.reference_price)}
      {item("Last", ticker?.last_trade_price)}
      {item("Bid", ticker?.best_bid)}
      {item("Ask", ticker?.best_ask)}
    </div>
  );
}

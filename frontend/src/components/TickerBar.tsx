import { dec } from "../domain/decimal";
import type { Price } from "../domain/types";
import type { Ticker } from "../services/websocket";

/** The symbol's prices: live from the stream (reference, last, bid, ask), the 24 h change,
 * high, low and volume from `/api/market-data/prices`. */
export function TickerBar({ ticker, prices, baseAsset = "" }: {
  ticker: Ticker | null; prices?: Price | null; baseAsset?: string;
}) {
  const item = (label: string, value: string | null | undefined, className = "", testId?: string) => (
    <span className="ticker-item" data-testid={testId}>
      <span className="muted">{label}</span> <span className={className}>{value ?? "–"}</span>
    </span>
  );
  const last = ticker?.last_trade_price ?? prices?.last_trade_price ?? null;
  const change = prices?.change_24h ?? null;
  const direction = change === null ? "" : dec(change).digits < 0n ? "sell" : "buy";
  const changeText = change === null ? null
    : `${dec(change).digits > 0n ? "+" : ""}${change} (${prices?.change_percent_24h ?? "0"} %)`;
  return (
    <div className="ticker" aria-label="Ticker" data-testid="ticker">
      {item("Last", last, "last", "ticker-last")}
      {item("24h change", changeText, direction, "ticker-change")}
      {item("24h high", prices?.high_24h, "", "ticker-high")}
      {item("24h low", prices?.low_24h, "", "ticker-low")}
      {item(`24h volume${baseAsset ? ` (${baseAsset})` : ""}`, prices?.volume_24h, "", "ticker-volume")}
      {item("Reference", ticker?.reference_price)}
      {item("Bid", ticker?.best_bid)}
      {item("Ask", ticker?.best_ask)}
    </div>
  );
}

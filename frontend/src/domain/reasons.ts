/**
 * Plain words for the API's stable error and reason codes (the `code` of an error body,
 * the `reason_code` of an order, the `reason` of an `order.rejected`). The API's own
 * message stays next to it: it says the numbers (e.g. which tick size).
 */
const REASONS: Record<string, string> = {
  insufficient_funds: "Not enough available balance",
  price_band: "Price too far from the reference price",
  position_limit: "Position limit reached",
  order_size: "Order larger than the risk limit allows",
  concentration: "Too much of the account in this symbol",
  daily_loss: "Daily loss limit reached",
  kill_switch: "Trading is stopped by a kill switch",
  velocity: "Order or notional rate limit reached",
  symbol_halted: "The symbol is halted",
  self_trade_prevention: "Would trade against your own order",
  post_only_would_take: "Post-only order would have taken liquidity",
  fok_unfillable: "Fill-or-kill order could not fill completely",
  ioc_remainder: "Unfilled rest of an immediate-or-cancel order",
  market_remainder: "Unfilled rest of a market order",
  expired: "Expired",
  user: "Cancelled by you",
  disconnect: "Cancelled when your stream disconnected",
  expired_gtd: "Expired",
  tick_size: "Price not on the tick size",
  lot_size: "Quantity not on the lot size",
  min_notional: "Order value below the minimum",
  above_max_notional: "Order value above the maximum",
  below_min_quantity: "Quantity below the minimum",
  above_max_quantity: "Quantity above the maximum",
  above_max_price: "Price above the maximum",
  throttled: "Too many requests: wait a moment",
  order_not_working: "The order is no longer working",
  idempotency_key_in_flight: "The same order is still being sent",
  duplicate_client_order_id: "Client order id already used",
  not_authenticated: "Log in again",
  network: "The server cannot be reached",
  unprocessable: "The request could not be processed",
};

/** Plain words for `code`, or null when there are none (the API's message then suffices). */
export function reasonText(code: string | null | undefined): string | null {
  return code ? REASONS[code] ?? null : null;
}

/** "Plain words (code)", or the code alone when it has no plain words. */
export function reasonLabel(code: string | null | undefined): string {
  if (!code) return "";
  const text = reasonText(code);
  return text ? `${text} (${code})` : code;
}

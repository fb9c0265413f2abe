/**
 * What an order would cost before it is sent: its notional at the price it would trade at
 * (its limit price, or for a market or stop order the best opposite price now), the fee at
 * the rate it would likely pay (taker when it crosses the book or is a market order, maker
 * when it rests) and the total in the quote asset. Exact decimals; an estimate only, the
 * processor decides (a market order may walk the book, a stop triggers later).
 */
import { add, compare, dec, format, multiply, parseDecimal, subtract } from "./decimal";
import type { Instrument } from "./types";
import { type OrderDraft, usesPrice } from "./validation";

export interface Estimate {
  /** the price the estimate assumes */
  price: string;
  notional: string;
  fee: string;
  feeRate: string;
  liquidity: "maker" | "taker";
  /** buy: notional plus fee (what is spent); sell: notional minus fee (what is received) */
  total: string;
}

export function estimateOrder(draft: OrderDraft, rules: Instrument, best: {
  bid: string | null; ask: string | null;
}): Estimate | null {
  const quantity = parseDecimal(draft.quantity);
  if (!quantity || quantity.digits <= 0n) return null;
  const opposite = draft.side === "buy" ? best.ask : best.bid;
  let priceText: string | null;
  let taker: boolean;
  if (usesPrice(draft.type)) {
    priceText = parseDecimal(draft.price) && draft.price.trim() !== "" ? draft.price.trim() : null;
    const price = priceText ? dec(priceText) : null;
    // a limit that reaches the best opposite price takes; a stop limit is assumed to rest
    taker = draft.type === "limit" && price !== null && opposite !== null
      && (draft.side === "buy" ? compare(price, dec(opposite)) >= 0 : compare(price, dec(opposite)) <= 0);
    if (draft.postOnly) taker = false;
  } else {
    priceText = draft.type === "stop" && parseDecimal(draft.stopPrice) && draft.stopPrice.trim() !== ""
      ? draft.stopPrice.trim() : opposite;
    taker = true;
  }
  if (!priceText) return null;
  const price = dec(priceText);
  if (price.digits <= 0n) return null;
  const notional = multiply(price, quantity);
  const rate = dec(taker ? rules.taker_fee_rate : rules.maker_fee_rate);
  const fee = multiply(notional, rate);
  const total = draft.side === "buy" ? add(notional, fee) : subtract(notional, fee);
  return {
    price: format(price), notional: format(notional), fee: format(fee), feeRate: format(rate),
    liquidity: taker ? "taker" : "maker", total: format(total),
  };
}

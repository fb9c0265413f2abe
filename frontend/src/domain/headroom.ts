/**
 * Risk headroom in the order form: which price to ask `GET /api/risk/headroom` at for the
 * draft, and its answer for the selected side in words (how much more may be bought or
 * sold now, in base and quote, and the rule that binds first, by its reason label). Pure:
 * the request and its timing are `hooks/useHeadroom.ts`'s.
 */
import { compare, dec, format, parseDecimal } from "./decimal";
import { reasonLabel, reasonText } from "./reasons";
import type { Headroom, Side } from "./types";
import { type OrderDraft, usesPrice } from "./validation";

/** What to ask at: `price` null asks at the reference price (the API's default). */
export interface HeadroomAsk {
  symbol: string;
  price: string | null;
}

/**
 * The headroom request for `draft`, or null while its price is not a price (being typed):
 * a limit or stop-limit order is asked at its limit price (normalized, so "30000" and
 * "30000.00" are one request), or at the reference price while that is empty; a market or
 * stop order at the reference price (the price band does not apply to them, and the size
 * rules value them at the reference price).
 */
export function headroomAsk(symbol: string, draft: OrderDraft): HeadroomAsk | null {
  if (!usesPrice(draft.type) || draft.price.trim() === "") return { symbol, price: null };
  const price = parseDecimal(draft.price);
  if (price === null || compare(price, dec("0")) <= 0) return null;
  return { symbol, price: format(price) };
}

/** One key per distinct request. */
export const askKey = (ask: HeadroomAsk): string => `${ask.symbol} ${ask.price ?? ""}`;

export interface SideHeadroom {
  /** the largest order (base) every rule allows now, e.g. "0.5 BTC"; null: no bound */
  base: string | null;
  /** its value at the asked price, e.g. "15000 USDT"; null: no bound */
  quote: string | null;
  /** the smallest order allowed, when a rule refuses small ones (e.g. "0.1 BTC") */
  least: string | null;
  /** the binding rule's code, null when no rule bounds the size */
  binding: string | null;
  /** the binding rule in plain words with its code, or that nothing bounds the size */
  bindingLabel: string;
  /** the price the answer is at, e.g. "30000 USDT" */
  price: string;
  /** the prices the price band allows, e.g. "27000 – 33000 USDT", when it binds */
  band: string | null;
}

const amount = (value: string | null, asset: string): string | null =>
  value === null ? null : `${format(dec(value))} ${asset}`;

/** The answer for `side` in words. */
export function sideHeadroom(body: Headroom, side: Side): SideHeadroom {
  const room = body[side];
  const quote = body.quote_asset;
  const binding = room.binding;
  return {
    base: amount(room.base, body.base_asset),
    quote: amount(room.quote, quote),
    least: room.min_base === null ? null : amount(room.min_base, body.base_asset),
    binding,
    bindingLabel: binding ? reasonLabel(binding) : "No rule limits the size",
    price: `${format(dec(body.price))} ${quote}`,
    band: binding === "price_band" && body.price_band
      ? `${format(dec(body.price_band.low))} – ${format(dec(body.price_band.high))} ${quote}`
      : null,
  };
}

export interface RuleHeadroom {
  code: string;
  /** plain words, or the code where there are none */
  name: string;
  /** the largest order this rule allows on the side, or "No limit" */
  most: string;
  least: string | null;
  binding: boolean;
}

/** Every rule's room on `side`, in the decision's order. */
export function rulesHeadroom(body: Headroom, side: Side): RuleHeadroom[] {
  return body.rules.map((rule) => ({
    code: rule.rule,
    name: reasonText(rule.rule) ?? rule.rule,
    most: amount(rule[side].base, body.base_asset) ?? "No limit",
    least: amount(rule[side].min_base, body.base_asset),
    binding: rule.rule === body[side].binding,
  }));
}

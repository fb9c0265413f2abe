/**
 * The order entry rules of the API (apps/orders/domain/rules.py), checked before sending so
 * that a mistake is shown at its field at once. Same field names and codes as the API's
 * errors. Amounts are compared exactly (src/domain/decimal.ts).
 */
import { compare, type Decimal, isMultipleOf, multiply, parseDecimal } from "./decimal";
import type {
  FieldError, Instrument, OrderType, PlaceOrderRequest, Side, TimeInForce,
} from "./types";

/** What the order form holds: text as typed. */
export interface OrderDraft {
  side: Side;
  type: OrderType;
  quantity: string;
  price: string;
  stopPrice: string;
  timeInForce: TimeInForce;
  postOnly: boolean;
  /** ISO 8601, for GTD only */
  expiresAt: string;
}

const LIMIT_TYPES: readonly OrderType[] = ["limit", "stop_limit"];
const STOP_TYPES: readonly OrderType[] = ["stop", "stop_limit"];
const MARKET_TYPES: readonly OrderType[] = ["market", "stop"];

export const usesPrice = (type: OrderType): boolean => LIMIT_TYPES.includes(type);
export const usesStopPrice = (type: OrderType): boolean => STOP_TYPES.includes(type);

/** The times in force an order type accepts. */
export function timesInForce(type: OrderType): TimeInForce[] {
  return MARKET_TYPES.includes(type) ? ["IOC", "FOK"] : ["GTC", "IOC", "FOK", "GTD"];
}

const error = (field: string | null, code: string, message: string): FieldError =>
  ({ field, code, message });

function checkQuantity(rules: Instrument, text: string): [Decimal | null, FieldError[]] {
  const quantity = parseDecimal(text);
  if (text.trim() === "") return [null, [error("quantity", "required", "quantity is required")]];
  if (quantity === null) return [null, [error("quantity", "invalid", "quantity must be a number")]];
  const lot = parseDecimal(rules.lot_size);
  const min = parseDecimal(rules.min_quantity);
  const max = parseDecimal(rules.max_quantity);
  if (quantity.digits <= 0n) {
    return [null, [error("quantity", "not_positive", "quantity must be greater than zero")]];
  }
  if (max && compare(quantity, max) > 0) {
    return [null, [error("quantity", "above_max_quantity",
      `quantity must be at most ${rules.max_quantity}`)]];
  }
  if (lot && !isMultipleOf(quantity, lot)) {
    return [null, [error("quantity", "lot_size",
      `quantity must be a multiple of the lot size ${rules.lot_size}`)]];
  }
  if (min && compare(quantity, min) < 0) {
    return [null, [error("quantity", "below_min_quantity",
      `quantity must be at least ${rules.min_quantity}`)]];
  }
  return [quantity, []];
}

function checkPrice(rules: Instrument, text: string, field: string, type: OrderType
): [Decimal | null, FieldError[]] {
  if (text.trim() === "") {
    return [null, [error(field, "required", `${field} is required for ${type} orders`)]];
  }
  const price = parseDecimal(text);
  if (price === null) return [null, [error(field, "invalid", `${field} must be a number`)]];
  if (price.digits <= 0n) {
    return [null, [error(field, "not_positive", `${field} must be greater than zero`)]];
  }
  const max = parseDecimal(rules.max_price);
  if (max && compare(price, max) > 0) {
    return [null, [error(field, "above_max_price", `${field} must be at most ${rules.max_price}`)]];
  }
  const tick = parseDecimal(rules.tick_size);
  if (tick && !isMultipleOf(price, tick)) {
    return [null, [error(field, "tick_size",
      `${field} must be a multiple of the tick size ${rules.tick_size}`)]];
  }
  return [price, []];
}

function checkTimeInForce(draft: OrderDraft, now: Date): FieldError[] {
  const errors: FieldError[] = [];
  if (!timesInForce(draft.type).includes(draft.timeInForce)) {
    errors.push(error("time_in_force", "not_allowed", `${draft.type} orders are IOC or FOK`));
  }
  if (draft.timeInForce === "GTD") {
    const expires = Date.parse(draft.expiresAt);
    if (draft.expiresAt === "" || Number.isNaN(expires)) {
      errors.push(error("expires_at", "required", "expires_at is required for GTD orders"));
    } else if (expires <= now.getTime()) {
      errors.push(error("expires_at", "not_in_future", "expires_at must be in the future"));
    }
  }
  if (draft.postOnly && !(draft.type === "limit" && draft.timeInForce === "GTC")) {
    errors.push(error("post_only", "post_only_not_allowed",
      "post_only is only for limit GTC orders"));
  }
  return errors;
}

/** Every rule the draft breaks, empty when it may be sent. */
export function validateOrder(draft: OrderDraft, rules: Instrument, now: Date): FieldError[] {
  if (!rules.trading) return [error("symbol", "symbol_halted", `${rules.symbol} is halted`)];
  const [quantity, errors] = checkQuantity(rules, draft.quantity);
  let price: Decimal | null = null;
  if (usesPrice(draft.type)) {
    const [value, priceErrors] = checkPrice(rules, draft.price, "price", draft.type);
    price = value;
    errors.push(...priceErrors);
  }
  if (usesStopPrice(draft.type)) {
    errors.push(...checkPrice(rules, draft.stopPrice, "stop_price", draft.type)[1]);
  }
  errors.push(...checkTimeInForce(draft, now));
  const minNotional = parseDecimal(rules.min_notional);
  const maxNotional = parseDecimal(rules.max_notional);
  if (errors.length === 0 && quantity && price) {
    const notional = multiply(quantity, price);
    if (minNotional && compare(notional, minNotional) < 0) {
      errors.push(error(null, "min_notional",
        `price times quantity must be at least ${rules.min_notional} ${rules.quote_asset}`));
    } else if (maxNotional && compare(notional, maxNotional) > 0) {
      errors.push(error(null, "above_max_notional",
        `price times quantity must be at most ${rules.max_notional} ${rules.quote_asset}`));
    }
  }
  return errors;
}

/** The API request for a valid draft: only the fields its type takes, amounts as text. */
export function toOrderRequest(draft: OrderDraft, symbol: string): PlaceOrderRequest {
  return {
    symbol,
    side: draft.side,
    type: draft.type,
    quantity: draft.quantity.trim(),
    time_in_force: draft.timeInForce,
    post_only: draft.postOnly,
    ...(usesPrice(draft.type) ? { price: draft.price.trim() } : {}),
    ...(usesStopPrice(draft.type) ? { stop_price: draft.stopPrice.trim() } : {}),
    ...(draft.timeInForce === "GTD" ? { expires_at: new Date(draft.expiresAt).toISOString() } : {}),
  };
}

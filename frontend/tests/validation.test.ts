import { describe, expect, it } from "vitest";
import type { Instrument } from "../src/domain/types";
import { type OrderDraft, timesInForce, toOrderRequest, validateOrder } from "../src/domain/validation";

const BTC: Instrument = {
  symbol: "BTC-USDT", base_asset: "BTC", quote_asset: "USDT", tick_size: "0.01",
  lot_size: "0.00001", min_quantity: "0.00001", max_quantity: "1000", min_notional: "10",
  max_price: "1000000", max_notional: "10000000",
  maker_fee_rate: "0.001", taker_fee_rate: "0.001", trading: true,
};
const NOW = new Date("2026-01-01T00:00:00Z");
const limit = (changes: Partial<OrderDraft> = {}): OrderDraft => ({
  side: "buy", type: "limit", quantity: "0.01", price: "60000.00", stopPrice: "",
  timeInForce: "GTC", postOnly: false, expiresAt: "", ...changes,
});
const codes = (draft: OrderDraft, rules = BTC) =>
  validateOrder(draft, rules, NOW).map((e) => `${e.field}:${e.code}`);

describe("validateOrder", () => {
  it("accepts a valid limit order", () => {
    expect(codes(limit())).toEqual([]);
  });

  it("checks the quantity against the lot and bounds", () => {
    expect(codes(limit({ quantity: "" }))).toEqual(["quantity:required"]);
    expect(codes(limit({ quantity: "abc" }))).toEqual(["quantity:invalid"]);
    expect(codes(limit({ quantity: "0" }))).toEqual(["quantity:not_positive"]);
    expect(codes(limit({ quantity: "0.000015" }))).toEqual(["quantity:lot_size"]);
    expect(codes(limit({ quantity: "1000.00001" }))).toEqual(["quantity:above_max_quantity"]);
    expect(codes(limit({ quantity: "0.005" }), { ...BTC, min_quantity: "0.01" }))
      .toEqual(["quantity:below_min_quantity"]);
  });

  it("checks the maximum price and notional", () => {
    expect(codes(limit({ price: "10000000000000" }))).toEqual(["price:above_max_price"]);
    expect(codes(limit({ quantity: "200", price: "60000" }))).toEqual(["null:above_max_notional"]);
  });

  it("checks prices on the tick, exactly", () => {
    expect(codes(limit({ price: "60000.015" }))).toEqual(["price:tick_size"]);
    expect(codes(limit({ price: "0.3" }), { ...BTC, tick_size: "0.1", min_notional: "0" })).toEqual([]);
    expect(codes(limit({ price: "" }))).toEqual(["price:required"]);
    expect(codes(limit({ price: "-1" }))).toEqual(["price:not_positive"]);
  });

  it("requires the minimum notional, without float error", () => {
    // 0.00001 * 999999.99 = 9.9999999 < 10; 0.001 * 10000.00 = 10 exactly is enough
    expect(codes(limit({ quantity: "0.00001", price: "999999.99" }))).toEqual(["null:min_notional"]);
    expect(codes(limit({ quantity: "0.001", price: "10000.00" }))).toEqual([]);
  });

  it("knows what each order type takes", () => {
    expect(codes(limit({ type: "market", timeInForce: "IOC", price: "" }))).toEqual([]);
    expect(codes(limit({ type: "market", timeInForce: "GTC" }))).toEqual(["time_in_force:not_allowed"]);
    expect(codes(limit({ type: "stop", timeInForce: "IOC" }))).toEqual(["stop_price:required"]);
    expect(codes(limit({ type: "stop_limit", stopPrice: "59000.001" }))).toEqual(["stop_price:tick_size"]);
    expect(codes(limit({ type: "stop_limit", stopPrice: "59000" }))).toEqual([]);
    expect(timesInForce("stop")).toEqual(["IOC", "FOK"]);
  });

  it("checks post-only and GTD", () => {
    expect(codes(limit({ postOnly: true }))).toEqual([]);
    expect(codes(limit({ postOnly: true, timeInForce: "IOC" }))).toEqual(["post_only:post_only_not_allowed"]);
    expect(codes(limit({ timeInForce: "GTD" }))).toEqual(["expires_at:required"]);
    expect(codes(limit({ timeInForce: "GTD", expiresAt: "2025-12-31T23:00:00Z" })))
      .toEqual(["expires_at:not_in_future"]);
    expect(codes(limit({ timeInForce: "GTD", expiresAt: "2026-01-02T00:00:00Z" }))).toEqual([]);
  });

  it("refuses everything on a halted symbol", () => {
    expect(codes(limit(), { ...BTC, trading: false })).toEqual(["symbol:symbol_halted"]);
  });
});

describe("toOrderRequest", () => {
  it("sends only the fields the type takes, as strings", () => {
    expect(toOrderRequest(limit({ quantity: " 0.01 " }), "BTC-USDT")).toEqual({
      symbol: "BTC-USDT", side: "buy", type: "limit", quantity: "0.01", price: "60000.00",
      time_in_force: "GTC", post_only: false,
    });
    const market = toOrderRequest(limit({ type: "market", timeInForce: "IOC", stopPrice: "1" }), "BTC-USDT");
    expect(market).not.toHaveProperty("price");
    expect(market).not.toHaveProperty("stop_price");
  });
});

import { describe, expect, it } from "vitest";
import { estimateOrder } from "../src/domain/estimate";
import { unrealizedPnl } from "../src/domain/pnl";
import { reasonLabel } from "../src/domain/reasons";
import type { Instrument } from "../src/domain/types";
import type { OrderDraft } from "../src/domain/validation";

const BTC: Instrument = {
  symbol: "BTC-USDT", base_asset: "BTC", quote_asset: "USDT", tick_size: "0.01", lot_size: "0.00001",
  min_quantity: "0.00001", max_quantity: "1000", min_notional: "10", max_price: "10000000",
  max_notional: "100000000", maker_fee_rate: "0.0005", taker_fee_rate: "0.001", trading: true,
};
const draft = (changes: Partial<OrderDraft>): OrderDraft => ({
  side: "buy", type: "limit", quantity: "0.01", price: "", stopPrice: "", timeInForce: "GTC",
  postOnly: false, expiresAt: "", ...changes,
});
const best = { bid: "59990", ask: "60010" };

describe("order estimate", () => {
  it("a resting limit buy costs its notional plus the maker fee", () => {
    expect(estimateOrder(draft({ price: "59000" }), BTC, best)).toEqual({
      price: "59000", notional: "590", fee: "0.295", feeRate: "0.0005", liquidity: "maker", total: "590.295",
    });
  });

  it("a limit that reaches the best opposite price pays the taker fee", () => {
    expect(estimateOrder(draft({ price: "60010" }), BTC, best)).toMatchObject({ liquidity: "taker", fee: "0.6001" });
    expect(estimateOrder(draft({ price: "60010", postOnly: true }), BTC, best)).toMatchObject({ liquidity: "maker" });
  });

  it("a market sell is valued at the best bid, less the taker fee", () => {
    expect(estimateOrder(draft({ side: "sell", type: "market", timeInForce: "IOC" }), BTC, best))
      .toMatchObject({ price: "59990", notional: "599.9", fee: "0.5999", total: "599.3001" });
  });

  it("a stop is valued at its stop price", () => {
    expect(estimateOrder(draft({ type: "stop", stopPrice: "61000", timeInForce: "IOC" }), BTC, best))
      .toMatchObject({ price: "61000", liquidity: "taker" });
  });

  it("gives nothing without a quantity or a price to value it at", () => {
    expect(estimateOrder(draft({ quantity: "" , price: "1" }), BTC, best)).toBeNull();
    expect(estimateOrder(draft({ price: "abc" }), BTC, best)).toBeNull();
    expect(estimateOrder(draft({ type: "market", timeInForce: "IOC" }), BTC, { bid: null, ask: null })).toBeNull();
  });
});

describe("unrealized P&L", () => {
  it("is the mark's move times the signed quantity", () => {
    expect(unrealizedPnl({ quantity: "0.5", average_entry_price: "60000" }, "61000.5")).toBe("500.25");
    expect(unrealizedPnl({ quantity: "-2", average_entry_price: "100" }, "110")).toBe("-20");
    expect(unrealizedPnl({ quantity: "0", average_entry_price: "100" }, "110")).toBe("0");
    expect(unrealizedPnl({ quantity: "1", average_entry_price: "100" }, null)).toBeNull();
  });
});

describe("reason codes", () => {
  it("are shown in plain words with the code", () => {
    expect(reasonLabel("insufficient_funds")).toBe("Not enough available balance (insufficient_funds)");
    expect(reasonLabel("something_new")).toBe("something_new");
    expect(reasonLabel("")).toBe("");
  });
});

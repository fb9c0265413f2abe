import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { askKey, headroomAsk, rulesHeadroom, sideHeadroom } from "../src/domain/headroom";
import type { Headroom } from "../src/domain/types";
import type { OrderDraft } from "../src/domain/validation";
import { ReadScheduler } from "../src/hooks/useHeadroom";

const draft = (changes: Partial<OrderDraft>): OrderDraft => ({
  side: "buy", type: "limit", quantity: "", price: "", stopPrice: "", timeInForce: "GTC",
  postOnly: false, expiresAt: "", ...changes,
});

const room = (base: string | null, quote: string | null = null, min_base: string | null = null) =>
  ({ base, quote, min_base });
const rule = (name: string, buy = room(null), sell = room(null)) => ({ rule: name, buy, sell });

/** As the API answers (tests/functional/risk/test_headroom_endpoint.py): funds bind buys,
 * the position limit sells. */
const BODY: Headroom = {
  user_id: 1, symbol: "BTC-USDT", base_asset: "BTC", quote_asset: "USDT", price: "50000",
  reference_price: "50000", price_band: { low: "45000", high: "55000" },
  buy: { base: "0.01998", quote: "999", min_base: null, binding: "insufficient_funds" },
  sell: { base: "0.3", quote: "15000", min_base: null, binding: "position_limit" },
  rules: [
    rule("kill_switch"), rule("symbol_halted"),
    rule("order_size", room("0.4", "20000"), room("0.4", "20000")),
    rule("price_band"), rule("position_limit", room("0.3", "15000"), room("0.3", "15000")),
    rule("concentration"), rule("daily_loss"), rule("velocity"),
    rule("insufficient_funds", room("0.01998", "999"), room("0.5", "25000")),
  ],
};

describe("which price the headroom is asked at", () => {
  it("a limit order at its limit price, normalized so equal prices make one request", () => {
    expect(headroomAsk("BTC-USDT", draft({ price: "30000.00" }))).toEqual({ symbol: "BTC-USDT", price: "30000" });
    expect(askKey(headroomAsk("BTC-USDT", draft({ price: "30000" }))!))
      .toBe(askKey(headroomAsk("BTC-USDT", draft({ price: " 30000.0 " }))!));
    expect(headroomAsk("BTC-USDT", draft({ type: "stop_limit", price: "31000.5", stopPrice: "30000" })))
      .toEqual({ symbol: "BTC-USDT", price: "31000.5" });
  });

  it("at the reference price while the limit price is empty, and for market and stop orders", () => {
    expect(headroomAsk("BTC-USDT", draft({ price: "" }))).toEqual({ symbol: "BTC-USDT", price: null });
    expect(headroomAsk("BTC-USDT", draft({ type: "market", price: "1" }))).toEqual({ symbol: "BTC-USDT", price: null });
    expect(headroomAsk("BTC-USDT", draft({ type: "stop", stopPrice: "20000" }))).toEqual({ symbol: "BTC-USDT", price: null });
  });

  it("not at all while the price is not a positive decimal", () => {
    for (const price of ["abc", "0", "-5", "1.2.3", "."]) {
      expect(headroomAsk("BTC-USDT", draft({ price })), price).toBeNull();
    }
  });
});

describe("the headroom in words", () => {
  it("names the side's room in base and quote and its binding rule with its code", () => {
    expect(sideHeadroom(BODY, "buy")).toEqual({
      base: "0.01998 BTC", quote: "999 USDT", least: null, binding: "insufficient_funds",
      bindingLabel: "Not enough available balance (insufficient_funds)", price: "50000 USDT", band: null,
    });
    expect(sideHeadroom(BODY, "sell")).toMatchObject({
      base: "0.3 BTC", quote: "15000 USDT", bindingLabel: "Position limit reached (position_limit)",
    });
  });

  it("says when no rule bounds the size, a smallest size, and the band when the price is outside it", () => {
    const free: Headroom = { ...BODY, buy: { base: null, quote: null, min_base: null, binding: null } };
    expect(sideHeadroom(free, "buy")).toMatchObject({ base: null, quote: null, bindingLabel: "No rule limits the size" });
    const short: Headroom = { ...BODY, buy: { base: "2", quote: "100000", min_base: "0.5", binding: "position_limit" } };
    expect(sideHeadroom(short, "buy").least).toBe("0.5 BTC");
    const outside: Headroom = { ...BODY, price: "60000.00", sell: { base: "0", quote: "0", min_base: null, binding: "price_band" } };
    expect(sideHeadroom(outside, "sell")).toMatchObject({
      base: "0 BTC", price: "60000 USDT", band: "45000 – 55000 USDT",
      bindingLabel: "Price too far from the reference price (price_band)",
    });
  });

  it("gives plain words for every rule the decision checks, velocity and concentration included", () => {
    const rules = rulesHeadroom(BODY, "sell");
    expect(rules.map((r) => r.code)).toEqual(BODY.rules.map((r) => r.rule));
    for (const r of rules) expect(r.name, r.code).not.toBe(r.code);
    expect(rules.find((r) => r.code === "velocity")?.name).toBe("Order or notional rate limit reached");
    expect(rules.filter((r) => r.binding).map((r) => r.code)).toEqual(["position_limit"]);
    expect(rules.find((r) => r.code === "kill_switch")?.most).toBe("No limit");
    expect(rules.find((r) => r.code === "insufficient_funds")?.most).toBe("0.5 BTC");
  });
});

describe("when the headroom is read", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("typing a price reads once, after the typing stops", async () => {
    const read = vi.fn(async () => undefined);
    const scheduler = new ReadScheduler(300, read);
    for (let i = 0; i < 10; i += 1) {
      scheduler.restart();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(read).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("a burst of fills reads once, even while they keep coming", async () => {
    const read = vi.fn(async () => undefined);
    const scheduler = new ReadScheduler(300, read);
    for (let i = 0; i < 6; i += 1) {
      scheduler.soon();
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("never two reads at a time: a call during one reads once more when it ends", async () => {
    let finish: () => void = () => undefined;
    const read = vi.fn(() => new Promise<void>((resolve) => { finish = resolve; }));
    const scheduler = new ReadScheduler(100, read);
    scheduler.soon();
    await vi.advanceTimersByTimeAsync(100);
    expect(read).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 5; i += 1) {
      scheduler.soon();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(read).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(2);
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it("a failed read does not stop later ones, and cancel drops a pending one", async () => {
    const read = vi.fn(async () => { throw new Error("down"); });
    const scheduler = new ReadScheduler(100, read);
    scheduler.soon();
    await vi.advanceTimersByTimeAsync(100);
    scheduler.soon();
    await vi.advanceTimersByTimeAsync(100);
    expect(read).toHaveBeenCalledTimes(2);
    scheduler.soon();
    scheduler.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(read).toHaveBeenCalledTimes(2);
  });
});

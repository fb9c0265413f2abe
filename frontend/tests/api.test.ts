import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, cookie } from "../src/services/api";

function stubFetch(status: number, body: unknown) {
  const fetch = vi.fn(async () => new Response(JSON.stringify(body), { status }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => vi.unstubAllGlobals());

describe("api", () => {
  it("reads a cookie", () => {
    expect(cookie("csrftoken", "sessionid=abc; csrftoken=t%3Dk")).toBe("t=k");
    expect(cookie("missing", "a=b")).toBeNull();
  });

  it("sends the CSRF token and the Idempotency-Key on a POST", async () => {
    vi.stubGlobal("document", { cookie: "csrftoken=tok123" });
    const fetch = stubFetch(202, { id: "o1", status: "NEW" });
    await api.placeOrder({ symbol: "BTC-USDT", side: "buy", type: "limit", quantity: "1", price: "1", post_only: false }, "key-1");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/orders");
    expect(init.headers).toMatchObject({ "X-CSRFToken": "tok123", "Idempotency-Key": "key-1", "Content-Type": "application/json" });
    expect(init.credentials).toBe("same-origin");
  });

  it("does not send the CSRF token on a GET", async () => {
    vi.stubGlobal("document", { cookie: "csrftoken=tok123" });
    const fetch = stubFetch(200, []);
    await api.balances();
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.headers).not.toHaveProperty("X-CSRFToken");
  });

  it("turns the structured error body into an ApiError", async () => {
    vi.stubGlobal("document", { cookie: "" });
    stubFetch(400, { errors: [{ field: "price", code: "tick_size", message: "price must be a multiple of the tick size 0.01" }] });
    const error = await api.cancelOrder("o1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).errors[0]).toMatchObject({ field: "price", code: "tick_size" });
    stubFetch(401, { errors: [{ field: null, code: "not_authenticated", message: "no" }] });
    expect(((await api.balances().catch((e: unknown) => e)) as ApiError).unauthenticated).toBe(true);
  });

  it("asks the headroom at a price, or at the reference price without one", async () => {
    const fetch = stubFetch(200, {});
    await api.headroom("BTC-USDT", "30000.5");
    await api.headroom("BTC-USDT", null);
    const urls = fetch.mock.calls.map((call) => (call as unknown as [string])[0]);
    expect(urls).toEqual(["/api/risk/headroom?symbol=BTC-USDT&price=30000.5", "/api/risk/headroom?symbol=BTC-USDT"]);
  });
});

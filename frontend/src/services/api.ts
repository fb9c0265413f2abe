/**
 * The REST client. Same origin as the page (Django serves the UI), so the session cookie
 * goes with every request; unsafe methods carry Django's CSRF token (`csrftoken` cookie ->
 * `X-CSRFToken`), which DRF's SessionAuthentication requires. Types come from the OpenAPI
 * schema (src/services/schema.d.ts, `npm run check-schema`). Every error is an `ApiError`
 * holding the API's `{"errors": [{field, code, message}]}`.
 */
import type {
  AmendOrderRequest, Balance, Candle, CandleInterval, Fill, FieldError, Headroom, Instrument, Order,
  OrderStatus, PlaceOrderRequest, Position, Price, PublicTrade,
} from "../domain/types";
import type { components } from "./schema";

type ErrorBody = components["schemas"]["ErrorBody"];
type OrderPage = components["schemas"]["PaginatedOrderList"];

export class ApiError extends Error {
  constructor(readonly status: number, readonly errors: FieldError[]) {
    super(errors.map((error) => error.message).join("; ") || `HTTP ${status}`);
    this.name = "ApiError";
  }

  get unauthenticated(): boolean {
    return this.status === 401 || (this.status === 403 && this.errors[0]?.code === "not_authenticated");
  }
}

export function cookie(name: string, source: string = document.cookie): string | null {
  for (const part of source.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

function isErrorBody(body: unknown): body is ErrorBody {
  return typeof body === "object" && body !== null && Array.isArray((body as ErrorBody).errors);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

async function request<T>(method: string, path: string, options: {
  body?: unknown; headers?: Record<string, string>;
} = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE_METHODS.has(method)) {
    const csrf = cookie("csrftoken");
    if (csrf) headers["X-CSRFToken"] = csrf;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, [{ field: null, code: "network", message: "the server cannot be reached" }]);
  }
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, isErrorBody(body) ? body.errors
      : [{ field: null, code: `http_${response.status}`, message: `HTTP ${response.status}` }]);
  }
  return body as T;
}

const enc = encodeURIComponent;

export const api = {
  instruments: () => request<Instrument[]>("GET", "/api/instruments"),
  balances: () => request<Balance[]>("GET", "/api/balances"),
  positions: () => request<Position[]>("GET", "/api/risk/positions"),
  /** How much more the rules allow now on each side of `symbol`, at `price` (null: at the
   * reference price), and which rule binds first. */
  headroom: (symbol: string, price: string | null) => {
    const params = new URLSearchParams({ symbol });
    if (price !== null) params.set("price", price);
    return request<Headroom>("GET", `/api/risk/headroom?${params}`);
  },
  candles: (symbol: string, interval: CandleInterval, limit: number) =>
    request<Candle[]>("GET", `/api/market-data/candles/${enc(symbol)}?interval=${interval}&limit=${limit}`),
  /** Last, best bid and ask, reference, and the 24 h change, high, low and volume. */
  prices: (symbol: string) => request<Price>("GET", `/api/market-data/prices/${enc(symbol)}`),
  /** The venue's public trades of `symbol`, newest first. */
  trades: (symbol: string, limit: number) =>
    request<PublicTrade[]>("GET", `/api/market-data/trades/${enc(symbol)}?limit=${limit}`),

  orders: (query: { status?: OrderStatus[]; symbol?: string; pageSize?: number } = {}) => {
    const params = new URLSearchParams();
    for (const status of query.status ?? []) params.append("status", status);
    if (query.symbol) params.set("symbol", query.symbol);
    params.set("page_size", String(query.pageSize ?? 100));
    return request<OrderPage>("GET", `/api/orders?${params}`).then((page) => page.results);
  },
  /** The schema calls this a page (PaginatedFillList); the view returns a plain list. */
  fills: (orderId: string) => request<Fill[]>("GET", `/api/orders/${enc(orderId)}/fills`),

  /** `idempotencyKey`: one per user action, so a retried or doubled submit places one order. */
  placeOrder: (order: PlaceOrderRequest, idempotencyKey: string) =>
    request<Order>("POST", "/api/orders", { body: order, headers: { "Idempotency-Key": idempotencyKey } }),
  amendOrder: (orderId: string, changes: AmendOrderRequest) =>
    request<Order>("PATCH", `/api/orders/${enc(orderId)}`, { body: changes }),
  cancelOrder: (orderId: string) => request<Order>("POST", `/api/orders/${enc(orderId)}/cancel`),
  /** Cancels every working order (of `symbol` only, when given); answers how many. */
  cancelAll: (symbol?: string) =>
    request<{ requested: number }>("POST", "/api/orders/cancel-all", { body: symbol ? { symbol } : {} }),
};

export const LOGIN_URL = "/api-auth/login/?next=/";
export const LOGOUT_URL = "/api-auth/logout/";

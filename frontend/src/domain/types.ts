/** The API's shapes, from the generated OpenAPI types (src/services/schema.d.ts). */
import type { components } from "../services/schema";

type Schemas = components["schemas"];

export type Instrument = Schemas["Instrument"];
export type Order = Schemas["Order"];
export type Fill = Schemas["Fill"];
export type Balance = Schemas["Balance"];
export type Position = Schemas["Position"];
export type Candle = Schemas["Candle"];
export type Price = Schemas["Price"];
export type PublicTrade = Schemas["Trade"];
/** `GET /api/risk/headroom`: how much more the account may buy and sell, rule by rule. */
export type Headroom = Schemas["Headroom"];
export type CandleInterval = "1m" | "5m" | "1h";
export type OrderBookSnapshot = Schemas["OrderBook"];
export type PlaceOrderRequest = Schemas["PlaceOrderRequest"];
export type AmendOrderRequest = Schemas["PatchedAmendOrderRequest"];
export type Side = Schemas["SideEnum"];
export type OrderType = Schemas["TypeEnum"];
export type TimeInForce = Schemas["TimeInForceEnum"];
export type OrderStatus = Schemas["StatusEnum"];
/** One entry of the API's error body: `field` is null for the request as a whole. */
export type FieldError = Schemas["ErrorBody"]["errors"][number];

export const WORKING_STATUSES: readonly OrderStatus[] = ["NEW", "ACCEPTED", "PARTIALLY_FILLED"];

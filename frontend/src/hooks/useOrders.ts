import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { dec, isZero } from "../domain/decimal";
import {
  type AmendOrderRequest, type Fill, type Order, type PlaceOrderRequest, WORKING_STATUSES,
} from "../domain/types";
import { reasonLabel } from "../domain/reasons";
import { api } from "../services/api";
import type { Execution, OrdersStream } from "../services/websocket";
import { useResource } from "./useResource";

/** A fill with the order it belongs to (the REST fill does not name it). */
export interface OwnFill extends Fill {
  symbol: string;
  side: string;
}

/** Orders whose fills are read at start; later fills arrive on the stream. */
const RECENT_ORDERS_WITH_FILLS = 10;
const FINAL_EVENTS = new Set(["order.rejected", "order.cancelled", "order.settled"]);

async function recentFills(): Promise<OwnFill[]> {
  const orders = await api.orders({ pageSize: 50 });
  const filled = orders.filter((order) => !isZero(dec(order.filled_quantity)))
    .slice(0, RECENT_ORDERS_WITH_FILLS);
  const lists = await Promise.all(filled.map(async (order) =>
    (await api.fills(order.id)).map((fill) => ({ ...fill, symbol: order.symbol, side: order.side }))));
  return lists.flat();
}

function fillOf(execution: Execution): OwnFill | null {
  const p = execution.payload;
  if (execution.event !== "order.fill" || !p.fill_id || !p.trade_id || !p.price || !p.quantity) {
    return null;
  }
  return {
    id: p.fill_id, trade_id: p.trade_id, price: p.price, quantity: p.quantity, fee: p.fee ?? "0",
    fee_asset: p.fee_asset ?? "", liquidity: p.liquidity ?? "", created_at: execution.occurred_at,
    symbol: p.symbol, side: p.side ?? "",
  };
}

function newestFirst(fills: Iterable<OwnFill>): OwnFill[] {
  const unique = new Map<string, OwnFill>();
  for (const fill of fills) unique.set(fill.id, fill);
  return [...unique.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** Orders the history shows: the newest of every status. */
const HISTORY_SIZE = 50;
const loadHistory = () => api.orders({ pageSize: HISTORY_SIZE });

export interface OrdersState {
  openOrders: Order[];
  /** The newest orders of every status (working, filled, cancelled, rejected, expired). */
  history: Order[] | null;
  fills: OwnFill[];
  /** The last refusal of a request that was accepted (e.g. an amend the processor refused). */
  notice: string | null;
  place: (order: PlaceOrderRequest, idempotencyKey: string) => Promise<Order>;
  cancel: (orderId: string) => Promise<void>;
  amend: (orderId: string, changes: AmendOrderRequest) => Promise<void>;
  /** Cancels every working order; resolves to how many cancels were requested. */
  cancelAll: () => Promise<number>;
}

/**
 * The user's working orders and fills: read over REST, kept live from `/ws/orders` (a fill
 * shows at once; each event also makes one coalesced REST read, as does every reconnect).
 */
export function useOrders(stream: OrdersStream, signedIn: boolean): OrdersState {
  const loadOpen = useCallback(() => api.orders({ status: [...WORKING_STATUSES] }), []);
  const open = useResource<Order[]>(signedIn ? loadOpen : null);
  const history = useResource<OwnFill[]>(signedIn ? recentFills : null);
  const orderHistory = useResource<Order[]>(signedIn ? loadHistory : null, 400);
  const [liveFills, setLiveFills] = useState<OwnFill[]>([]);
  /** Placed here and not yet in a REST read (the processor has not taken them yet). */
  const [pending, setPending] = useState<Map<string, Order>>(new Map());
  /**
   * Orders the stream has already decided (accepted or final). The processor can answer
   * before the 202 does: an order decided first must not then wait in `pending` forever.
   */
  const decided = useRef<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);

  const { refresh: refreshOpen } = open;
  const { refresh: refreshHistory } = history;
  const { refresh: refreshOrderHistory } = orderHistory;
  useEffect(() => {
    const stopConnected = stream.onConnected(() => {
      refreshOpen(); refreshHistory(); refreshOrderHistory();
    });
    const stopExecution = stream.onExecution((execution) => {
      const fill = fillOf(execution);
      if (fill) setLiveFills((fills) => [fill, ...fills]);
      if (FINAL_EVENTS.has(execution.event) || execution.event === "order.accepted") {
        remember(decided.current, execution.payload.order_id);
        setPending((current) => {
          if (!current.has(execution.payload.order_id)) return current;
          const next = new Map(current);
          next.delete(execution.payload.order_id);
          return next;
        });
      }
      if (execution.event === "order.rejected" && execution.payload.message) {
        setNotice(`Order rejected: ${reasonLabel(execution.payload.reason ?? "rejected")}: ${execution.payload.message}`);
      }
      refreshOpen();
      refreshOrderHistory();
    });
    return () => { stopConnected(); stopExecution(); };
  }, [stream, refreshOpen, refreshHistory, refreshOrderHistory]);

  const openOrders = useMemo(() => {
    const read = open.data ?? [];
    const ids = new Set(read.map((order) => order.id));
    return [...[...pending.values()].filter((order) => !ids.has(order.id)), ...read];
  }, [open.data, pending]);

  const fills = useMemo(
    () => newestFirst([...liveFills, ...(history.data ?? [])]), [liveFills, history.data]);

  const place = useCallback(async (order: PlaceOrderRequest, idempotencyKey: string) => {
    // Cleared before sending: the order's rejection may arrive before its 202 does.
    setNotice(null);
    const placed = await api.placeOrder(order, idempotencyKey);
    if (!decided.current.has(placed.id)) {
      setPending((current) => new Map(current).set(placed.id, placed));
    }
    refreshOpen();
    return placed;
  }, [refreshOpen]);

  const cancel = useCallback(async (orderId: string) => {
    await api.cancelOrder(orderId);
    refreshOpen();
  }, [refreshOpen]);

  const amend = useCallback(async (orderId: string, changes: AmendOrderRequest) => {
    await api.amendOrder(orderId, changes);
    refreshOpen();
  }, [refreshOpen]);

  const cancelAll = useCallback(async () => {
    const { requested } = await api.cancelAll();
    refreshOpen();
    refreshOrderHistory();
    return requested;
  }, [refreshOpen, refreshOrderHistory]);

  return { openOrders, history: orderHistory.data, fills, notice, place, cancel, amend, cancelAll };
}

/** How many decided order ids are remembered: far more than can be placed in one round trip. */
const DECIDED_KEPT = 1000;

function remember(ids: Set<string>, id: string): void {
  ids.add(id);
  if (ids.size > DECIDED_KEPT) ids.delete(ids.values().next().value as string);
}

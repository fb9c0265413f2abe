import { useState } from "react";
import type { AmendOrderRequest, FieldError, Instrument, Order } from "../domain/types";
import { refusalNote } from "../domain/refusal";
import { type OrderDraft, validateOrder } from "../domain/validation";
import { ApiError } from "../services/api";
import { errorsOf, FieldErrors } from "./FieldError";

interface Props {
  orders: Order[];
  instruments: Instrument[];
  onCancel: (orderId: string) => Promise<void>;
  onAmend: (orderId: string, changes: AmendOrderRequest) => Promise<void>;
  onCancelAll?: () => Promise<number>;
}

/** The amend's new price and quantity, checked with the same rules as a new order. */
function amendErrors(order: Order, price: string, quantity: string, rules: Instrument | undefined): FieldError[] {
  if (!rules) return [];
  const draft: OrderDraft = {
    side: order.side === "sell" ? "sell" : "buy", type: order.type as OrderDraft["type"],
    quantity, price, stopPrice: order.stop_price ?? "",
    timeInForce: order.time_in_force as OrderDraft["timeInForce"], postOnly: false,
    expiresAt: order.expires_at ?? "",
  };
  const shown = new Set<string | null>(["price", "quantity", null]);
  return validateOrder(draft, rules, new Date()).filter((e) => shown.has(e.field));
}

function AmendRow({ order, rules, onAmend, onDone }: {
  order: Order; rules: Instrument | undefined;
  onAmend: Props["onAmend"]; onDone: () => void;
}) {
  const [price, setPrice] = useState(order.price ?? "");
  const [quantity, setQuantity] = useState(order.quantity);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const save = async () => {
    const problems = amendErrors(order, price, quantity, rules);
    setErrors(problems);
    if (problems.length > 0) return;
    const changes: AmendOrderRequest = {};
    if (order.price !== null && price !== order.price) changes.price = price;
    if (quantity !== order.quantity) changes.quantity = quantity;
    try {
      await onAmend(order.id, changes);
      onDone();
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.errors);
      else throw error;
    }
  };
  const otherErrors = errors.filter((e) => e.field !== "price" && e.field !== "quantity");
  return (
    <tr className="amend">
      <td colSpan={3}>Amend {order.id.slice(0, 8)}</td>
      <td>
        {order.price !== null && (
          <input aria-label="New price" value={price} onChange={(e) => setPrice(e.target.value)}
            aria-invalid={errorsOf(errors, "price").length > 0} />
        )}
        <FieldErrors id={`amend-${order.id}-price`} errors={errorsOf(errors, "price")} />
      </td>
      <td>
        <input aria-label="New quantity" value={quantity} onChange={(e) => setQuantity(e.target.value)}
          aria-invalid={errorsOf(errors, "quantity").length > 0} />
        <FieldErrors id={`amend-${order.id}-quantity`} errors={errorsOf(errors, "quantity")} />
      </td>
      <td colSpan={2}><FieldErrors id={`amend-${order.id}-error`} errors={otherErrors} /></td>
      <td className="actions" data-order-id={order.id}>
        <button type="button" onClick={save}>Save</button>
        <button type="button" onClick={onDone}>Discard</button>
      </td>
    </tr>
  );
}

/** The order's status, and the last request on it that the processor refused, if any. */
function StatusCell({ order }: { order: Order }) {
  const note = refusalNote(order);
  return (
    <td>
      {order.status}
      {note && <span className="refusal" role="note">{note}</span>}
    </td>
  );
}

export function OpenOrders({ orders, instruments, onCancel, onAmend, onCancelAll }: Props) {
  const [amending, setAmending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cancel = (orderId: string) => {
    setError(null);
    onCancel(orderId).catch((reason: unknown) => {
      if (reason instanceof ApiError) setError(reason.message);
      else throw reason;
    });
  };
  const [cancelling, setCancelling] = useState(false);
  const cancelAll = () => {
    if (!onCancelAll) return;
    setError(null);
    setCancelling(true);
    onCancelAll().catch((reason: unknown) => {
      if (reason instanceof ApiError) setError(reason.message);
      else throw reason;
    }).finally(() => setCancelling(false));
  };
  return (
    <section className="panel" aria-label="Open orders" tabIndex={0} /* scrolls sideways on narrow screens */>
      <div className="panel-head">
        <h2>Open orders <span className="muted">{orders.length}</span></h2>
        {onCancelAll && (
          <button type="button" className="danger" disabled={orders.length === 0 || cancelling}
            onClick={cancelAll}>Cancel all</button>
        )}
      </div>
      {error && <p className="field-error" role="alert">{error}</p>}
      {orders.length === 0 ? <p className="muted">No working orders.</p> : (
        <table>
          <thead>
            <tr><th>Symbol</th><th>Side</th><th>Type</th><th>Price</th><th>Quantity</th><th>Filled</th><th>Status</th><th><span className="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {orders.map((order) => amending === order.id ? (
              <AmendRow key={order.id} order={order} onAmend={onAmend} onDone={() => setAmending(null)}
                rules={instruments.find((i) => i.symbol === order.symbol)} />
            ) : (
              <tr key={order.id} data-order-id={order.id}>
                <td>{order.symbol}</td>
                <td className={order.side}>{order.side}</td>
                <td>{order.type}{order.stop_price ? ` @ ${order.stop_price}` : ""}</td>
                <td className="num">{order.price ?? "market"}</td>
                <td className="num">{order.quantity}</td>
                <td className="num">{order.filled_quantity}</td>
                <StatusCell order={order} />
                <td className="actions">
                  <button type="button" disabled={order.status === "NEW"} onClick={() => setAmending(order.id)}>Amend</button>
                  <button type="button" disabled={order.status === "NEW"} onClick={() => cancel(order.id)}>Cancel</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

import { reasonLabel } from "../domain/reasons";
import type { Order } from "../domain/types";

/** The newest orders of every status, each with its reason code in plain words. */
export function OrderHistory({ orders }: { orders: Order[] | null }) {
  return (
    <section className="panel" aria-label="Order history" tabIndex={0} /* scrolls sideways on narrow screens */>
      <h2>Order history</h2>
      {orders === null ? <p className="muted">Loading…</p>
        : orders.length === 0 ? <p className="muted">No orders yet.</p> : (
          <table>
            <thead>
              <tr><th>Time</th><th>Symbol</th><th>Side</th><th>Type</th><th className="num">Price</th>
                <th className="num">Quantity</th><th className="num">Filled</th><th className="num">Avg price</th>
                <th>Status</th><th>Reason</th></tr>
            </thead>
            <tbody>
              {orders.map((order) => (
                <tr key={order.id} data-order-id={order.id} data-status={order.status}>
                  <td>{new Date(order.created_at).toLocaleTimeString()}</td>
                  <td>{order.symbol}</td>
                  <td className={order.side}>{order.side}</td>
                  <td>{order.type}{order.stop_price ? ` @ ${order.stop_price}` : ""}</td>
                  <td className="num">{order.price ?? "market"}</td>
                  <td className="num">{order.quantity}</td>
                  <td className="num">{order.filled_quantity}</td>
                  <td className="num">{order.average_fill_price ?? "–"}</td>
                  <td>{order.status}</td>
                  <td data-reason={order.reason_code}>{reasonLabel(order.reason_code) || "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

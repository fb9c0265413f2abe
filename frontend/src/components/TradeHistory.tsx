import type { OwnFill } from "../hooks/useOrders";

/** The user's own fills, newest first (live from /ws/orders). */
export function TradeHistory({ fills }: { fills: OwnFill[] }) {
  return (
    <section className="panel" aria-label="Fills" tabIndex={0} /* scrolls sideways on narrow screens */>
      <h2>Fills</h2>
      {fills.length === 0 ? <p className="muted">No fills yet.</p> : (
        <table>
          <thead>
            <tr><th>Time</th><th>Symbol</th><th>Side</th><th>Price</th><th>Quantity</th><th>Fee</th><th>Liquidity</th></tr>
          </thead>
          <tbody>
            {fills.slice(0, 50).map((fill) => (
              <tr key={fill.id}>
                <td>{new Date(fill.created_at).toLocaleTimeString()}</td>
                <td>{fill.symbol}</td>
                <td className={fill.side}>{fill.side}</td>
                <td className="num">{fill.price}</td>
                <td className="num">{fill.quantity}</td>
                <td className="num">{fill.fee} {fill.fee_asset}</td>
                <td>{fill.liquidity}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

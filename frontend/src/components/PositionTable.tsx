import type { Position } from "../domain/types";

export function PositionTable({ positions }: { positions: Position[] | null }) {
  return (
    <section className="panel" aria-label="Positions">
      <h2>Positions</h2>
      {positions === null ? <p className="muted">Loading…</p>
        : positions.length === 0 ? <p className="muted">No positions.</p> : (
          <table>
            <thead><tr><th>Symbol</th><th>Quantity</th><th>Avg entry</th><th>Realized P&amp;L</th></tr></thead>
            <tbody>
              {positions.map((position) => (
                <tr key={position.symbol} data-symbol={position.symbol}>
                  <td>{position.symbol}</td>
                  <td className="num">{position.quantity}</td>
                  <td className="num">{position.average_entry_price}</td>
                  <td className="num">{position.realized_pnl}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </section>
  );
}

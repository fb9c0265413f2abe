import { dec, fixed } from "../domain/decimal";
import { unrealizedPnl } from "../domain/pnl";
import type { Position } from "../domain/types";

const signClass = (value: string | null) =>
  value === null ? "" : dec(value).digits < 0n ? "sell" : dec(value).digits > 0n ? "buy" : "";

/** Positions with their unrealized P&L at the mark (the feed's reference price, else the
 * venue's last trade, live from the ticker stream). */
export function PositionTable({ positions, marks }: {
  positions: Position[] | null; marks?: ReadonlyMap<string, string>;
}) {
  return (
    <section className="panel" aria-label="Positions" tabIndex={0} /* scrolls sideways on narrow screens */>
      <h2>Positions</h2>
      {positions === null ? <p className="muted">Loading…</p>
        : positions.length === 0 ? <p className="muted">No positions.</p> : (
          <table>
            <thead>
              <tr><th>Symbol</th><th className="num">Quantity</th><th className="num">Avg entry</th>
                <th className="num">Mark</th><th className="num">Unrealized P&amp;L</th>
                <th className="num">Realized P&amp;L</th></tr>
            </thead>
            <tbody>
              {positions.map((position) => {
                const mark = marks?.get(position.symbol) ?? null;
                const pnl = unrealizedPnl(position, mark);
                return (
                  <tr key={position.symbol} data-symbol={position.symbol}>
                    <td>{position.symbol}</td>
                    <td className="num">{position.quantity}</td>
                    <td className="num">{position.average_entry_price}</td>
                    <td className="num">{mark ?? "–"}</td>
                    <td className={`num ${signClass(pnl)}`} data-testid="unrealized-pnl">
                      {pnl === null ? "–" : fixed(dec(pnl), 2)}
                    </td>
                    <td className="num">{position.realized_pnl}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
    </section>
  );
}

import type { Balance } from "../domain/types";

export function Balances({ balances }: { balances: Balance[] | null }) {
  return (
    <section className="panel" aria-label="Balances" tabIndex={0} /* scrolls sideways on narrow screens */>
      <h2>Balances</h2>
      {balances === null ? <p className="muted">Loading…</p> : (
        <table>
          <thead><tr><th>Asset</th><th>Available</th><th>Reserved</th><th>Total</th></tr></thead>
          <tbody>
            {balances.map((balance) => (
              <tr key={balance.asset} data-asset={balance.asset}>
                <td>{balance.asset}</td>
                <td className="num">{balance.available}</td>
                <td className="num">{balance.reserved}</td>
                <td className="num">{balance.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

import { type HeadroomAsk, rulesHeadroom, sideHeadroom } from "../domain/headroom";
import { reasonLabel } from "../domain/reasons";
import type { Side } from "../domain/types";
import type { HeadroomState } from "../hooks/useHeadroom";

/**
 * Beside the estimate: how much more the risk rules let the account buy or sell now (base
 * and quote) for the selected side, the rule that binds first in plain words with its
 * code, and every rule's room behind a disclosure. Read from `GET /api/risk/headroom` by
 * `useHeadroom` (debounced); it dims (aria-busy) while a new answer is on its way.
 */
export function HeadroomPanel({ side, ask, state }: {
  side: Side; ask: HeadroomAsk | null; state: HeadroomState;
}) {
  const verb = side === "buy" ? "buy" : "sell";
  let body;
  if (ask === null) {
    body = <p className="muted" data-testid="headroom-note">Enter a valid price to see what risk allows.</p>;
  } else if (state.error) {
    const problem = state.error.errors[0];
    const noReference = problem?.field === "price" && problem.code === "required";
    body = (
      <p className="muted" data-testid="headroom-note">
        {noReference ? "No reference price yet: enter a price to see what risk allows."
          : `Not available: ${reasonLabel(problem?.code) || state.error.message}`}
      </p>
    );
  } else if (state.data === null) {
    body = <p className="muted" data-testid="headroom-note">Reading what risk allows…</p>;
  } else {
    const room = sideHeadroom(state.data, side);
    const rules = rulesHeadroom(state.data, side);
    body = (
      <>
        <dl className="estimate">
          <div><dt>Can {verb} up to</dt><dd data-testid="headroom-base">{room.base ?? "No limit"}</dd></div>
          <div><dt>Worth</dt><dd data-testid="headroom-quote">{room.quote ?? "–"}</dd></div>
          {room.least && (
            <div><dt>At least</dt><dd data-testid="headroom-least">{room.least}</dd></div>
          )}
          <div><dt>Limited first by</dt><dd data-testid="headroom-binding" data-code={room.binding ?? ""}>{room.bindingLabel}</dd></div>
          {room.band && (
            <div><dt>Allowed prices</dt><dd data-testid="headroom-band">{room.band}</dd></div>
          )}
        </dl>
        <details className="headroom-rules">
          <summary>Every rule ({verb})</summary>
          <table>
            <caption className="visually-hidden">Largest {verb} order each risk rule allows</caption>
            <thead><tr><th scope="col">Rule</th><th scope="col">Up to</th></tr></thead>
            <tbody>
              {rules.map((rule) => (
                <tr key={rule.code} data-rule={rule.code} className={rule.binding ? "binding" : undefined}>
                  <th scope="row">{rule.name} <span className="muted">({rule.code})</span></th>
                  <td>{rule.most}{rule.least ? `, at least ${rule.least}` : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </>
    );
  }
  const at = state.data && ask !== null && !state.error
    ? ` at ${sideHeadroom(state.data, side).price}${ask.price === null ? " (reference)" : ""}` : "";
  return (
    <section className="headroom" aria-labelledby="headroom-title" aria-busy={state.pending}
      data-testid="headroom" data-side={side}>
      <h3 id="headroom-title">Risk headroom</h3>
      <p className="muted headroom-at" data-testid="headroom-at">{`Order sizes the risk rules allow now${at}`}</p>
      {body}
    </section>
  );
}

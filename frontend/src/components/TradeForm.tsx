import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { estimateOrder } from "../domain/estimate";
import { headroomAsk } from "../domain/headroom";
import { newIdempotencyKey } from "../domain/ids";
import type { FieldError, Instrument, Order, OrderType, PlaceOrderRequest } from "../domain/types";
import {
  type OrderDraft, timesInForce, toOrderRequest, usesPrice, usesStopPrice, validateOrder,
} from "../domain/validation";
import { useHeadroom } from "../hooks/useHeadroom";
import { ApiError } from "../services/api";
import type { OrdersStream } from "../services/websocket";
import { errorsOf, FieldErrors } from "./FieldError";
import { HeadroomPanel } from "./HeadroomPanel";

interface Props {
  instrument: Instrument;
  /** A price picked in the book (`nonce` changes on every pick, even of the same price). */
  pickedPrice: { price: string; nonce: number } | null;
  onPlace: (order: PlaceOrderRequest, idempotencyKey: string) => Promise<Order>;
  /** The best bid and ask now: the price a market order is estimated at. */
  best?: { bid: string | null; ask: string | null };
  /** Available balances by asset, shown against what the order needs. */
  available?: ReadonlyMap<string, string>;
  /** The user's order events: the risk headroom is read again after each (coalesced). */
  ordersStream?: OrdersStream;
}

const TYPES: { value: OrderType; label: string }[] = [
  { value: "limit", label: "Limit" }, { value: "market", label: "Market" },
  { value: "stop", label: "Stop" }, { value: "stop_limit", label: "Stop limit" },
];
/** Fields the form shows; an error of any other field is shown for the whole form. */
const FORM_FIELDS = new Set(["quantity", "price", "stop_price", "time_in_force", "expires_at", "post_only"]);
const EMPTY: OrderDraft = {
  side: "buy", type: "limit", quantity: "", price: "", stopPrice: "", timeInForce: "GTC",
  postOnly: false, expiresAt: "",
};

/** A retry after these may reach the server twice: keep the key so it places one order. */
const isUncertain = (error: ApiError): boolean => error.status === 0 || error.status >= 500
  || error.errors.some((e) => e.code === "idempotency_key_in_flight");

function Field({ id, label, errors, children }: {
  id: string; label: string; errors: FieldError[]; children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      <FieldErrors id={`${id}-error`} errors={errors} />
    </div>
  );
}

export function TradeForm({
  instrument, pickedPrice, onPlace, best = { bid: null, ask: null }, available, ordersStream,
}: Props) {
  const [draft, setDraft] = useState<OrderDraft>(EMPTY);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [placed, setPlaced] = useState<Order | null>(null);
  /** One key per order the user means to place: a double click or a retry reuses it. */
  const idempotencyKey = useRef(newIdempotencyKey());
  /** Set at once (state is not): a second click before the next render sends nothing. */
  const inFlight = useRef(false);

  useEffect(() => {
    if (pickedPrice) setDraft((d) => ({ ...d, price: pickedPrice.price }));
  }, [pickedPrice]);

  // One answer holds both sides: a side change shows the other at once, and reads again.
  const ask = headroomAsk(instrument.symbol, draft);
  const headroom = useHeadroom(ordersStream, ask);
  const { refresh: refreshHeadroom } = headroom;
  useEffect(() => { refreshHeadroom(); }, [draft.side, refreshHeadroom]);

  const update = (changes: Partial<OrderDraft>) => {
    setDraft((d) => {
      const next = { ...d, ...changes };
      if (!timesInForce(next.type).includes(next.timeInForce)) next.timeInForce = timesInForce(next.type)[0] ?? "IOC";
      if (next.type !== "limit" || next.timeInForce !== "GTC") next.postOnly = false;
      return next;
    });
    idempotencyKey.current = newIdempotencyKey(); // another order now
    setErrors([]);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (inFlight.current) return;
    const problems = validateOrder(draft, instrument, new Date());
    setErrors(problems);
    setPlaced(null);
    if (problems.length > 0) return;
    inFlight.current = true;
    setSubmitting(true);
    try {
      setPlaced(await onPlace(toOrderRequest(draft, instrument.symbol), idempotencyKey.current));
      idempotencyKey.current = newIdempotencyKey();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setErrors(error.errors);
      if (!isUncertain(error)) idempotencyKey.current = newIdempotencyKey();
    } finally {
      inFlight.current = false;
      setSubmitting(false);
    }
  };

  const fieldProps = (id: string, field: string) => {
    const invalid = errorsOf(errors, field).length > 0;
    return { id, "aria-invalid": invalid, "aria-describedby": invalid ? `${id}-error` : undefined };
  };
  const formErrors = errors.filter((e) => e.field === null || !FORM_FIELDS.has(e.field));
  const base = instrument.base_asset;
  const quote = instrument.quote_asset;

  return (
    <form className="panel trade-form" aria-label="Order entry" onSubmit={submit} noValidate>
      <h2>New order</h2>
      <div className="sides" role="radiogroup" aria-label="Side">
        {(["buy", "sell"] as const).map((side) => (
          <button key={side} type="button" role="radio" aria-checked={draft.side === side}
            className={`side ${side}${draft.side === side ? " selected" : ""}`}
            onClick={() => update({ side })}>{side === "buy" ? "Buy" : "Sell"}</button>
        ))}
      </div>
      <Field id="order-type" label="Type" errors={[]}>
        <select id="order-type" value={draft.type}
          onChange={(e) => update({ type: e.target.value as OrderType })}>
          {TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
      </Field>
      {usesStopPrice(draft.type) && (
        <Field id="order-stop-price" label={`Stop price (${quote})`} errors={errorsOf(errors, "stop_price")}>
          <input {...fieldProps("order-stop-price", "stop_price")} inputMode="decimal"
            placeholder={`tick ${instrument.tick_size}`} value={draft.stopPrice}
            onChange={(e) => update({ stopPrice: e.target.value })} />
        </Field>
      )}
      {usesPrice(draft.type) && (
        <Field id="order-price" label={`Price (${quote})`} errors={errorsOf(errors, "price")}>
          <input {...fieldProps("order-price", "price")} inputMode="decimal"
            placeholder={`tick ${instrument.tick_size}`} value={draft.price}
            onChange={(e) => update({ price: e.target.value })} />
        </Field>
      )}
      <Field id="order-quantity" label={`Quantity (${base})`} errors={errorsOf(errors, "quantity")}>
        <input {...fieldProps("order-quantity", "quantity")} inputMode="decimal"
          placeholder={`lot ${instrument.lot_size}`} value={draft.quantity}
          onChange={(e) => update({ quantity: e.target.value })} />
      </Field>
      <Field id="order-tif" label="Time in force" errors={errorsOf(errors, "time_in_force")}>
        <select {...fieldProps("order-tif", "time_in_force")} value={draft.timeInForce}
          onChange={(e) => update({ timeInForce: e.target.value as OrderDraft["timeInForce"] })}>
          {timesInForce(draft.type).map((tif) => <option key={tif} value={tif}>{tif}</option>)}
        </select>
      </Field>
      {draft.timeInForce === "GTD" && (
        <Field id="order-expires" label="Expires at" errors={errorsOf(errors, "expires_at")}>
          <input {...fieldProps("order-expires", "expires_at")} type="datetime-local"
            value={draft.expiresAt} onChange={(e) => update({ expiresAt: e.target.value })} />
        </Field>
      )}
      <label className="check">
        <input type="checkbox" checked={draft.postOnly}
          disabled={draft.type !== "limit" || draft.timeInForce !== "GTC"}
          onChange={(e) => update({ postOnly: e.target.checked })} />
        Post only
      </label>
      <FieldErrors id="order-post-only-error" errors={errorsOf(errors, "post_only")} />
      <p className="muted rules">
        Tick {instrument.tick_size} · lot {instrument.lot_size} · min notional {instrument.min_notional} {quote}
      </p>
      <OrderEstimate draft={draft} instrument={instrument} best={best} available={available} />
      <HeadroomPanel side={draft.side} ask={ask} state={headroom} />
      <FieldErrors id="order-form-error" errors={formErrors} />
      <button type="submit" className={`submit ${draft.side}`} disabled={submitting}>
        {submitting ? "Sending…" : `${draft.side === "buy" ? "Buy" : "Sell"} ${base}`}
      </button>
      {placed && (
        <p className="ok" role="status">Order {placed.id.slice(0, 8)} sent ({placed.status})</p>
      )}
    </form>
  );
}

/** Cost, fee and total of the draft before it is sent (`domain/estimate.ts`), and the
 * balance it draws on. The risk headroom is `HeadroomPanel`, under it. */
function OrderEstimate({ draft, instrument, best, available }: {
  draft: OrderDraft; instrument: Instrument; best: { bid: string | null; ask: string | null };
  available?: ReadonlyMap<string, string>;
}) {
  const estimate = estimateOrder(draft, instrument, best);
  const quote = instrument.quote_asset;
  const spends = draft.side === "buy" ? quote : instrument.base_asset;
  const balance = available?.get(spends);
  return (
    <dl className="estimate" aria-label="Estimate" data-testid="estimate">
      <div><dt>Est. {draft.side === "buy" ? "cost" : "value"}</dt>
        <dd data-testid="estimate-notional">{estimate ? `${estimate.notional} ${quote}` : "–"}</dd></div>
      <div><dt>Est. fee{estimate ? ` (${estimate.liquidity} ${estimate.feeRate})` : ""}</dt>
        <dd data-testid="estimate-fee">{estimate ? `${estimate.fee} ${quote}` : "–"}</dd></div>
      <div><dt>{draft.side === "buy" ? "Total spent" : "Total received"}</dt>
        <dd data-testid="estimate-total">{estimate ? `${estimate.total} ${quote}` : "–"}</dd></div>
      {balance !== undefined && (
        <div><dt>Available</dt><dd data-testid="estimate-available">{balance} {spends}</dd></div>
      )}
    </dl>
  );
}

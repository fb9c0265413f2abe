import { type CSSProperties, useState } from "react";
import { type Book, type DepthLevel, depthLadder, groupBook, spread } from "../domain/book";
import { dec, format, multiply } from "../domain/decimal";
import { DepthChart } from "./DepthChart";

interface Props {
  book: Book | null;
  /** The instrument's tick size: grouping is by multiples of it. */
  tickSize?: string;
  depth?: number;
  /** A level was clicked: its price goes to the order form. */
  onPickPrice: (price: string) => void;
}

const GROUPINGS = [1n, 10n, 100n, 1000n];

function Level({ level, side, onPick }: {
  level: DepthLevel; side: "bid" | "ask"; onPick: (price: string) => void;
}) {
  const style = { "--depth": `${(level.depth * 100).toFixed(1)}%` } as CSSProperties;
  return (
    <button type="button" className={`level ${side}`} style={style}
      title={`Use ${level.price} as the price`} onClick={() => onPick(level.price)}>
      <span className="price">{level.price}</span>
      <span>{level.quantity}</span>
      <span className="total">{level.cumulative}</span>
    </button>
  );
}

/** The aggregated book: asks above (best at the bottom), the spread, bids below; each
 * level's bar is the cumulative depth from the best price; levels grouped by tick
 * multiples; the depth chart under it. */
export function OrderBook({ book, tickSize = "0.01", depth = 12, onPickPrice }: Props) {
  const [grouping, setGrouping] = useState(0);
  const steps = GROUPINGS.map((factor) => format(multiply(dec(tickSize), { digits: factor, scale: 0 })));
  const step = steps[grouping] ?? tickSize;
  const picker = (
    <label className="grouping">
      <span className="muted">Group</span>
      <select value={grouping} onChange={(e) => setGrouping(Number(e.target.value))}>
        {steps.map((value, i) => <option key={value} value={i}>{value}</option>)}
      </select>
    </label>
  );
  if (!book) {
    return (
      <section className="panel book" aria-label="Order book">
        <div className="panel-head"><h2>Order book</h2>{picker}</div>
        <p className="muted">Waiting for the book…</p>
      </section>
    );
  }
  const shown = grouping === 0 ? book : groupBook(book, step);
  const ladder = depthLadder(shown, depth);
  const gap = spread(book);
  return (
    <section className="panel book" aria-label="Order book" data-sequence={book.sequence}>
      <div className="panel-head">
        <h2>Order book <span className="muted">#{book.sequence}</span></h2>
        {picker}
      </div>
      <div className="level header" aria-hidden="true"><span>Price</span><span>Quantity</span><span>Total</span></div>
      <div className="asks" data-testid="asks">
        {[...ladder.asks].reverse().map((level) => (
          <Level key={level.price} level={level} side="ask" onPick={onPickPrice} />
        ))}
      </div>
      <div className="spread" data-testid="spread">
        {gap === null ? "No spread (a side is empty)" : `Spread ${gap}`}
      </div>
      <div className="bids" data-testid="bids">
        {ladder.bids.map((level) => (
          <Level key={level.price} level={level} side="bid" onPick={onPickPrice} />
        ))}
      </div>
      <DepthChart book={book} />
    </section>
  );
}

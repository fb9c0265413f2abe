import type { CSSProperties } from "react";
import { type Book, type DepthLevel, depthLadder, spread } from "../domain/book";

interface Props {
  book: Book | null;
  depth?: number;
  /** A level was clicked: its price goes to the order form. */
  onPickPrice: (price: string) => void;
}

function Level({ level, side, onPick }: {
  level: DepthLevel; side: "bid" | "ask"; onPick: (price: string) => void;
}) {
  const style = { "--depth": `${(level.depth * 100).toFixed(1)}%` } as CSSProperties;
  return (
    <button type="button" className={`level ${side}`} style={style}
      title={`Use ${level.price} as the price`} onClick={() => onPick(level.price)}>
      <span className="price">{level.price}</span>
      <span>{level.quantity}</span>
      <span className="muted">{level.cumulative}</span>
    </button>
  );
}

/** The aggregated book: asks above (best at the bottom), the spread, bids below. */
export function OrderBook({ book, depth = 12, onPickPrice }: Props) {
  if (!book) return <section className="panel" aria-label="Order book"><h2>Order book</h2><p className="muted">Waiting for the book…</p></section>;
  const ladder = depthLadder(book, depth);
  const gap = spread(book);
  return (
    <section className="panel book" aria-label="Order book" data-sequence={book.sequence}>
      <h2>Order book <span className="muted">#{book.sequence}</span></h2>
      <div className="level header"><span>Price</span><span>Quantity</span><span>Total</span></div>
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
    </section>
  );
}

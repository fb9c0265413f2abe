/**
 * The client's copy of one symbol's aggregated book (price level -> quantity), kept from
 * `/ws/market-data`: a snapshot replaces every level, then each delta must carry the next
 * sequence number and sets the levels it names (quantity "0" removes one). A delta that
 * does not follow is a gap: the book is unusable until a fresh snapshot.
 */
import {
  add, compare, dec, format, isZero, normalize, subtract, toNumber, toStep,
} from "./decimal";

export type WireLevels = string[][];

export interface BookMessage {
  symbol: string;
  sequence: number;
  bids: WireLevels;
  asks: WireLevels;
}

export interface Book {
  symbol: string;
  sequence: number;
  /** canonical price -> quantity */
  bids: ReadonlyMap<string, string>;
  asks: ReadonlyMap<string, string>;
}

export type DeltaResult =
  | { kind: "applied"; book: Book }
  | { kind: "stale" }
  | { kind: "gap"; expected: number; received: number };

function setLevels(levels: Map<string, string>, changes: WireLevels): void {
  for (const [price, quantity] of changes) {
    if (price === undefined || quantity === undefined) continue;
    const key = normalize(price);
    if (isZero(dec(quantity))) levels.delete(key);
    else levels.set(key, quantity);
  }
}

export function bookFromSnapshot(message: BookMessage): Book {
  const bids = new Map<string, string>();
  const asks = new Map<string, string>();
  setLevels(bids, message.bids);
  setLevels(asks, message.asks);
  return { symbol: message.symbol, sequence: message.sequence, bids, asks };
}

/** The book after `delta`, or why it cannot be applied (a stale one is simply dropped). */
export function applyDelta(book: Book, delta: BookMessage): DeltaResult {
  if (delta.sequence <= book.sequence) return { kind: "stale" };
  if (delta.sequence !== book.sequence + 1) {
    return { kind: "gap", expected: book.sequence + 1, received: delta.sequence };
  }
  const bids = new Map(book.bids);
  const asks = new Map(book.asks);
  setLevels(bids, delta.bids);
  setLevels(asks, delta.asks);
  return { kind: "applied", book: { ...book, sequence: delta.sequence, bids, asks } };
}

export interface DepthLevel {
  price: string;
  quantity: string;
  /** quantity of this level and every better one */
  cumulative: string;
  /** cumulative as a share of the deepest cumulative on either side shown, 0..1 (drawing only) */
  depth: number;
}

export type BookSide = "bids" | "asks";

function bestFirst(side: BookSide): (a: string, b: string) => number {
  return side === "bids" ? (a, b) => compare(dec(b), dec(a)) : (a, b) => compare(dec(a), dec(b));
}

function sideLevels(book: Book, side: BookSide, depth: number): Omit<DepthLevel, "depth">[] {
  const prices = [...book[side].keys()].sort(bestFirst(side)).slice(0, depth);
  let total = dec("0");
  return prices.map((price) => {
    const quantity = book[side].get(price) ?? "0";
    total = add(total, dec(quantity));
    return { price, quantity, cumulative: format(total) };
  });
}

/** The best `depth` levels of each side, best first, with cumulative depth for the bars. */
export function depthLadder(book: Book, depth: number): { bids: DepthLevel[]; asks: DepthLevel[] } {
  const bids = sideLevels(book, "bids", depth);
  const asks = sideLevels(book, "asks", depth);
  const deepest = Math.max(
    ...[bids.at(-1), asks.at(-1)].map((level) => (level ? toNumber(dec(level.cumulative)) : 0)),
  );
  const withDepth = (level: Omit<DepthLevel, "depth">): DepthLevel => ({
    ...level, depth: deepest > 0 ? toNumber(dec(level.cumulative)) / deepest : 0,
  });
  return { bids: bids.map(withDepth), asks: asks.map(withDepth) };
}

/** Best ask minus best bid, or null while a side is empty. */
export function spread(book: Book): string | null {
  const bid = sideLevels(book, "bids", 1)[0];
  const ask = sideLevels(book, "asks", 1)[0];
  if (!bid || !ask) return null;
  return format(subtract(dec(ask.price), dec(bid.price)));
}

function groupSide(levels: ReadonlyMap<string, string>, step: string, rounding: "floor" | "ceil"
): Map<string, string> {
  const size = dec(step);
  const grouped = new Map<string, string>();
  for (const [price, quantity] of levels) {
    const key = format(toStep(dec(price), size, rounding));
    grouped.set(key, format(add(dec(grouped.get(key) ?? "0"), dec(quantity))));
  }
  return grouped;
}

/**
 * The book with its levels grouped into buckets of `step` (a multiple of the tick): bids
 * rounded down and asks up, so a grouped level's price is one an order may be sent at and
 * a grouped bid never shows above the real best bid.
 */
export function groupBook(book: Book, step: string): Book {
  return { ...book, bids: groupSide(book.bids, step, "floor"), asks: groupSide(book.asks, step, "ceil") };
}

export interface DepthPoint {
  price: number;
  cumulative: number;
}

/** The depth chart's two curves (approximate numbers, drawing only): bids from the best
 * down, asks from the best up, each point the quantity at that price or better. */
export function depthCurve(book: Book, depth: number): { bids: DepthPoint[]; asks: DepthPoint[] } {
  const points = (side: BookSide) => sideLevels(book, side, depth).map((level) => ({
    price: toNumber(dec(level.price)), cumulative: toNumber(dec(level.cumulative)),
  }));
  return { bids: points("bids"), asks: points("asks") };
}

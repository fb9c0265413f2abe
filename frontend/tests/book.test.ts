import { describe, expect, it } from "vitest";
import {
  applyDelta, type Book, bookFromSnapshot, depthCurve, depthLadder, groupBook, spread,
} from "../src/domain/book";

const snapshot = bookFromSnapshot({
  symbol: "BTC-USDT", sequence: 10,
  bids: [["100.00", "1"], ["99.5", "2"]],
  asks: [["101", "0.5"], ["102.50", "1.5"]],
});

function applied(book: Book, delta: Omit<Parameters<typeof applyDelta>[1], "symbol">): Book {
  const result = applyDelta(book, { symbol: "BTC-USDT", ...delta });
  if (result.kind !== "applied") throw new Error(`not applied: ${result.kind}`);
  return result.book;
}

describe("book", () => {
  it("keeps levels by canonical price from the snapshot", () => {
    expect([...snapshot.bids.entries()]).toEqual([["100", "1"], ["99.5", "2"]]);
    expect(spread(snapshot)).toBe("1");
  });

  it("merges a delta: sets, adds and removes levels (quantity 0)", () => {
    const book = applied(snapshot, {
      sequence: 11, bids: [["100.0", "3"], ["99.50", "0"]], asks: [["100.5", "1"]],
    });
    expect(book.sequence).toBe(11);
    expect([...book.bids.entries()]).toEqual([["100", "3"]]);
    const ladder = depthLadder(book, 10);
    expect(ladder.asks.map((l) => [l.price, l.cumulative])).toEqual([["100.5", "1"], ["101", "1.5"], ["102.5", "3"]]);
    expect(ladder.bids[0]).toMatchObject({ price: "100", cumulative: "3", depth: 1 });
    expect(spread(book)).toBe("0.5");
    // the original is untouched (React state)
    expect(snapshot.bids.get("99.5")).toBe("2");
  });

  it("detects a gap and drops stale deltas", () => {
    expect(applyDelta(snapshot, { symbol: "BTC-USDT", sequence: 12, bids: [], asks: [] }))
      .toEqual({ kind: "gap", expected: 11, received: 12 });
    expect(applyDelta(snapshot, { symbol: "BTC-USDT", sequence: 10, bids: [], asks: [] }))
      .toEqual({ kind: "stale" });
  });

  it("orders sides best first and limits the depth", () => {
    const ladder = depthLadder(snapshot, 1);
    expect(ladder.bids.map((l) => l.price)).toEqual(["100"]);
    expect(ladder.asks.map((l) => l.price)).toEqual(["101"]);
    expect(spread(bookFromSnapshot({ symbol: "X", sequence: 1, bids: [], asks: [["1", "1"]] }))).toBeNull();
  });
});

describe("grouping and depth", () => {
  const fine = bookFromSnapshot({
    symbol: "BTC-USDT", sequence: 1,
    bids: [["100.07", "1"], ["100.02", "2"], ["99.99", "4"]],
    asks: [["100.11", "1"], ["100.19", "0.5"], ["100.21", "3"]],
  });

  it("groups bids down and asks up to the step, summing quantities", () => {
    const grouped = groupBook(fine, "0.1");
    expect([...grouped.bids.entries()]).toEqual([["100", "3"], ["99.9", "4"]]);
    expect([...grouped.asks.entries()]).toEqual([["100.2", "1.5"], ["100.3", "3"]]);
    const ladder = depthLadder(grouped, 10);
    expect(ladder.bids.map((l) => l.cumulative)).toEqual(["3", "7"]);
  });

  it("draws cumulative depth outward from the best prices", () => {
    const curve = depthCurve(fine, 10);
    expect(curve.bids.map((p) => p.cumulative)).toEqual([1, 3, 7]);
    expect(curve.asks.map((p) => p.price)).toEqual([100.11, 100.19, 100.21]);
  });
});

import { type Book, depthCurve } from "../domain/book";

const WIDTH = 300;
const HEIGHT = 120;
const PAD = 4;

/** The book's cumulative depth: bids (left, falling prices) and asks (right) as steps. */
export function DepthChart({ book, depth = 50 }: { book: Book | null; depth?: number }) {
  if (!book) return null;
  const { bids, asks } = depthCurve(book, depth);
  if (bids.length === 0 && asks.length === 0) return null;
  const prices = [...bids, ...asks].map((p) => p.price);
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  const span = high - low || 1;
  const deepest = Math.max(...[...bids, ...asks].map((p) => p.cumulative)) || 1;
  const x = (price: number) => PAD + ((price - low) / span) * (WIDTH - 2 * PAD);
  const y = (cumulative: number) => HEIGHT - PAD - (cumulative / deepest) * (HEIGHT - 2 * PAD);
  /** A step path from the best price outward, closed down to the axis. */
  const area = (points: typeof bids) => {
    if (points.length === 0) return "";
    let path = `M ${x(points[0]?.price ?? 0)} ${HEIGHT - PAD}`;
    let previous = 0;
    for (const point of points) {
      path += ` L ${x(point.price)} ${y(previous)} L ${x(point.price)} ${y(point.cumulative)}`;
      previous = point.cumulative;
    }
    return `${path} L ${x(points.at(-1)?.price ?? 0)} ${HEIGHT - PAD} Z`;
  };
  const bidDepth = bids.at(-1)?.cumulative ?? 0;
  const askDepth = asks.at(-1)?.cumulative ?? 0;
  return (
    <figure className="depth-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img"
        aria-label={`${book.symbol} depth chart: ${bidDepth} bid, ${askDepth} ask within ${depth} levels`}>
        <path className="depth bid" d={area(bids)} />
        <path className="depth ask" d={area(asks)} />
      </svg>
      <figcaption className="muted">Depth: bids {bidDepth} · asks {askDepth}</figcaption>
    </figure>
  );
}

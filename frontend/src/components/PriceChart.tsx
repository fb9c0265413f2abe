import { dec, toNumber } from "../domain/decimal";
import type { Candle } from "../domain/types";

const WIDTH = 600;
const HEIGHT = 200;
const PAD = { top: 10, right: 70, bottom: 20, left: 8 };

/** Candles of the venue's own trades, as a small SVG (drawing uses approximate numbers). */
export function PriceChart({ candles, symbol }: { candles: Candle[] | null; symbol: string }) {
  if (!candles || candles.length === 0) {
    return (
      <section className="panel chart" aria-label="Price chart">
        <h2>{symbol} · 1m</h2>
        <p className="muted">{candles ? "No trades on the venue yet." : "Loading…"}</p>
      </section>
    );
  }
  const points = candles.map((c) => ({
    start: c.start, open: toNumber(dec(c.open)), high: toNumber(dec(c.high)),
    low: toNumber(dec(c.low)), close: toNumber(dec(c.close)),
  }));
  const high = Math.max(...points.map((p) => p.high));
  const low = Math.min(...points.map((p) => p.low));
  const range = high - low || high * 0.001 || 1;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const step = plotWidth / Math.max(points.length, 20);
  const y = (value: number) => PAD.top + ((high - value) / range) * (HEIGHT - PAD.top - PAD.bottom);
  const last = candles[candles.length - 1];

  return (
    <section className="panel chart" aria-label="Price chart">
      <h2>{symbol} · 1m <span className="muted">last {last?.close}</span></h2>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${symbol} one-minute candles`}>
        <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(high)} y2={y(high)} />
        <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(low)} y2={y(low)} />
        <text className="axis-label" x={WIDTH - PAD.right + 4} y={y(high) + 4}>{high}</text>
        <text className="axis-label" x={WIDTH - PAD.right + 4} y={y(low) + 4}>{low}</text>
        {points.map((p, i) => {
          const x = PAD.left + i * step + step / 2;
          const up = p.close >= p.open;
          const bodyTop = y(Math.max(p.open, p.close));
          return (
            <g key={p.start} className={up ? "candle up" : "candle down"}>
              <title>{`${new Date(p.start).toLocaleTimeString()} O ${p.open} H ${p.high} L ${p.low} C ${p.close}`}</title>
              <line x1={x} x2={x} y1={y(p.high)} y2={y(p.low)} />
              <rect x={x - step * 0.35} width={step * 0.7} y={bodyTop}
                height={Math.max(1, y(Math.min(p.open, p.close)) - bodyTop)} />
            </g>
          );
        })}
        <text className="axis-label" x={PAD.left} y={HEIGHT - 4}>
          {new Date(points[0]?.start ?? "").toLocaleTimeString()}
        </text>
      </svg>
    </section>
  );
}

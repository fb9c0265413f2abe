import { dec, toNumber } from "../domain/decimal";
import type { Candle, CandleInterval } from "../domain/types";

const WIDTH = 640;
const PRICE_HEIGHT = 220;
const VOLUME_HEIGHT = 50;
const HEIGHT = PRICE_HEIGHT + VOLUME_HEIGHT + 18;
const PAD = { top: 10, right: 72, left: 8 };
export const INTERVALS: readonly CandleInterval[] = ["1m", "5m", "1h"];
const INTERVAL_NAMES: Record<CandleInterval, string> = { "1m": "one-minute", "5m": "five-minute", "1h": "one-hour" };

interface Props {
  symbol: string;
  candles: Candle[] | null;
  interval?: CandleInterval;
  onInterval?: (interval: CandleInterval) => void;
  /** The feed's reference price: a dashed line, and the whole picture before any trade. */
  referencePrice?: string | null;
}

function IntervalPicker({ interval, onInterval }: {
  interval: CandleInterval; onInterval?: (interval: CandleInterval) => void;
}) {
  return (
    <div className="intervals" role="group" aria-label="Candle interval">
      {INTERVALS.map((value) => (
        <button key={value} type="button" aria-pressed={value === interval}
          onClick={() => onInterval?.(value)}>{value}</button>
      ))}
    </div>
  );
}

/**
 * Candles of the venue's own trades with their volume below, as SVG (drawing uses
 * approximate numbers). Each candle is a `g.candle` carrying its exact figures as data
 * attributes. The reference price is a dashed line; before the first trade it is the chart.
 */
export function PriceChart({ candles, symbol, interval = "1m", onInterval, referencePrice = null }: Props) {
  const reference = referencePrice === null ? null : toNumber(dec(referencePrice));
  const header = (
    <div className="panel-head">
      <h2>{symbol} · {interval} {candles && candles.length > 0 && (
        <span className="muted">last {candles[candles.length - 1]?.close}</span>)}</h2>
      <IntervalPicker interval={interval} onInterval={onInterval} />
    </div>
  );
  if (!candles || (candles.length === 0 && reference === null)) {
    return (
      <section className="panel chart" aria-label="Price chart">
        {header}
        <p className="muted">{candles ? "No trades on the venue yet." : "Loading…"}</p>
      </section>
    );
  }
  const points = candles.map((c) => ({
    candle: c, open: toNumber(dec(c.open)), high: toNumber(dec(c.high)),
    low: toNumber(dec(c.low)), close: toNumber(dec(c.close)), volume: toNumber(dec(c.volume)),
  }));
  const prices = [...points.flatMap((p) => [p.high, p.low]), ...(reference === null ? [] : [reference])];
  const high = Math.max(...prices);
  const low = Math.min(...prices);
  const range = high - low || high * 0.001 || 1;
  const top = high + range * 0.05;
  const bottom = low - range * 0.05;
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const step = plotWidth / Math.max(points.length, 30);
  const y = (value: number) => PAD.top + ((top - value) / (top - bottom)) * (PRICE_HEIGHT - PAD.top);
  const maxVolume = Math.max(...points.map((p) => p.volume), 0) || 1;
  const volumeBase = PRICE_HEIGHT + VOLUME_HEIGHT;
  const label = `${symbol} ${INTERVAL_NAMES[interval]} candles`;

  return (
    <section className="panel chart" aria-label="Price chart">
      {header}
      {points.length === 0 && (
        <p className="muted">No trades on the venue yet: the line is the reference price.</p>
      )}
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label}>
        <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(high)} y2={y(high)} />
        <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(low)} y2={y(low)} />
        <text className="axis-label" x={WIDTH - PAD.right + 4} y={y(high) + 4}>{high}</text>
        <text className="axis-label" x={WIDTH - PAD.right + 4} y={y(low) + 4}>{low}</text>
        <line className="axis" x1={PAD.left} x2={WIDTH - PAD.right} y1={volumeBase} y2={volumeBase} />
        {reference !== null && (
          <g className="reference" data-price={referencePrice ?? ""}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(reference)} y2={y(reference)} />
            <text className="axis-label" x={PAD.left + 4} y={y(reference) - 4}>reference {reference}</text>
          </g>
        )}
        {points.map((p, i) => {
          const x = PAD.left + i * step + step / 2;
          const up = p.close >= p.open;
          const bodyTop = y(Math.max(p.open, p.close));
          const volumeHeight = Math.max(1, (p.volume / maxVolume) * (VOLUME_HEIGHT - 6));
          return (
            <g key={p.candle.start} className={up ? "candle up" : "candle down"}
              data-start={p.candle.start} data-close={p.candle.close} data-volume={p.candle.volume}
              data-trades={p.candle.trade_count}>
              <title>{`${new Date(p.candle.start).toLocaleTimeString()} O ${p.candle.open} H ${p.candle.high} L ${p.candle.low} C ${p.candle.close} V ${p.candle.volume}`}</title>
              <line x1={x} x2={x} y1={y(p.high)} y2={y(p.low)} />
              <rect x={x - step * 0.35} width={step * 0.7} y={bodyTop}
                height={Math.max(1, y(Math.min(p.open, p.close)) - bodyTop)} />
              <rect className="volume" x={x - step * 0.35} width={step * 0.7}
                y={volumeBase - volumeHeight} height={volumeHeight} />
            </g>
          );
        })}
        {points[0] && (
          <text className="axis-label" x={PAD.left} y={HEIGHT - 4}>
            {new Date(points[0].candle.start).toLocaleTimeString()}
          </text>
        )}
      </svg>
    </section>
  );
}

import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { PriceChart } from "../src/components/PriceChart";
import type { Candle } from "../src/domain/types";

const candle = (start: string, open: string, close: string, volume = "1"): Candle => ({
  start, open, close, high: "105", low: "95", volume, trade_count: 1,
});
const two = [candle("2026-01-01T00:00:00Z", "100", "104", "2"), candle("2026-01-01T00:01:00Z", "104", "96", "1")];

describe("PriceChart", () => {
  it("draws one candle and one volume bar per interval, rising and falling", () => {
    const html = renderToStaticMarkup(createElement(PriceChart, { symbol: "BTC-USDT", candles: two }));
    expect(html.match(/<g class="candle/g)).toHaveLength(2);
    expect(html.match(/<rect class="volume"/g)).toHaveLength(2);
    expect(html).toContain('class="candle up"');
    expect(html).toContain('class="candle down"');
    expect(html).toContain("last 96");
    expect(html).toContain('data-close="96" data-volume="1"');
    expect(html).toContain('aria-label="BTC-USDT one-minute candles"');
  });

  it("scales volume bars to the largest", () => {
    const html = renderToStaticMarkup(createElement(PriceChart, { symbol: "BTC-USDT", candles: two }));
    const heights = [...html.matchAll(/<rect class="volume"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights[0]).toBeCloseTo(2 * (heights[1] ?? 0));
  });

  it("names the interval picked and marks its button pressed", () => {
    const html = renderToStaticMarkup(createElement(PriceChart, { symbol: "BTC-USDT", candles: two, interval: "5m" }));
    expect(html).toContain('aria-label="BTC-USDT five-minute candles"');
    expect(html).toContain('aria-pressed="true">5m</button>');
    expect(html).toContain('aria-pressed="false">1m</button>');
  });

  it("draws the reference price before the first trade", () => {
    const html = renderToStaticMarkup(createElement(PriceChart, {
      symbol: "BTC-USDT", candles: [], referencePrice: "60000.5",
    }));
    expect(html).toContain('class="reference" data-price="60000.5"');
    expect(html).toContain("the line is the reference price");
    expect(html).not.toContain('class="candle');
  });

  it("says so when the venue has no trades and no reference price", () => {
    expect(renderToStaticMarkup(createElement(PriceChart, { symbol: "BTC-USDT", candles: [] })))
      .toContain("No trades on the venue yet.");
  });
});

import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { PriceChart } from "../src/components/PriceChart";
import type { Candle } from "../src/domain/types";

const candle = (start: string, open: string, close: string): Candle => ({
  start, open, close, high: "105", low: "95", volume: "1", trade_count: 1,
});

describe("PriceChart", () => {
  it("draws one candle per interval, rising and falling", () => {
    const html = renderToStaticMarkup(createElement(PriceChart, {
      symbol: "BTC-USDT",
      candles: [candle("2026-01-01T00:00:00Z", "100", "104"), candle("2026-01-01T00:01:00Z", "104", "96")],
    }));
    expect(html.match(/<rect/g)).toHaveLength(2);
    expect(html).toContain('class="candle up"');
    expect(html).toContain('class="candle down"');
    expect(html).toContain("last 96");
    expect(html).toContain(`y="27" height="136"`); // the falling body spans 104 down to 96
  });

  it("says so when the venue has no trades", () => {
    expect(renderToStaticMarkup(createElement(PriceChart, { symbol: "BTC-USDT", candles: [] })))
      .toContain("No trades on the venue yet.");
  });
});

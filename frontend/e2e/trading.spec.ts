import AxeBuilder from "@axe-core/playwright";
import { type BrowserContext, expect, type Locator, type Page, test } from "@playwright/test";

/**
 * The trading screen against the whole stack, with the demo venue's order flow running (the
 * market maker quotes twelve levels a side, the demo taker crosses the spread every second),
 * as `make up` runs it. Alice trades in the UI (session login). One page for the whole
 * story, in order: each step builds on the last.
 */
test.describe.configure({ mode: "serial" });

const SCREENSHOTS = "../test-artifacts";
/** Set by whoever refreshes the README's picture: `E2E_README_SCREENSHOT=1 make ui-e2e`. */
const README_SCREENSHOT = process.env.E2E_README_SCREENSHOT ? "../docs/trading-screen.png" : null;
let context: BrowserContext;
let page: Page;

const region = (name: string) => page.getByRole("region", { name });
const openOrders = () => region("Open orders").locator("tbody tr");
const asks = () => page.getByTestId("asks").getByRole("button");
const bids = () => page.getByTestId("bids").getByRole("button");
const cell = (name: string, rowAttr: string, column: number) =>
  region(name).locator(`tr[${rowAttr}] td`).nth(column);
const lastCandle = () =>
  page.getByRole("img", { name: "BTC-USDT one-minute candles" }).locator("g.candle").last();
const newestTrade = () => region("Trades").locator("tbody tr").first();

async function fillOrderForm(price: string, quantity: string): Promise<void> {
  await page.getByLabel("Price (USDT)").fill(price);
  await page.getByLabel("Quantity (BTC)").fill(quantity);
}

/** No serious or critical axe-core violation (WCAG 2.1 AA, contrast included). */
async function expectAccessible(what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  expect(serious, `${what}: axe-core violations`).toEqual([]);
}

async function priceOf(level: Locator): Promise<string> {
  return (await level.locator(".price").textContent()) ?? "";
}

test.beforeAll(async ({ browser }) => {
  // a context of our own: axe-core runs its frames through it
  context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context.close();
});

test("logged out, the screen passes axe-core, the Log in button included", async () => {
  await page.goto("/");
  await expect(page.getByTestId("connection-market")).toHaveAttribute("data-status", "open");
  await expect(page.getByRole("link", { name: "Log in" }).first()).toBeVisible();
  await expect(region("Order book").getByTestId("bids")).toBeVisible();
  await expectAccessible("logged out");
});

test("logs in with the Django session", async () => {
  await page.getByRole("link", { name: "Log in" }).first().click();
  await page.locator("#id_username").fill("alice");
  await page.locator("#id_password").fill("alice-demo-password");
  await page.locator("#submit-id-submit").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("form", { name: "Order entry" })).toBeVisible();
  await expect(page.getByTestId("connection-orders")).toHaveAttribute("data-status", "open");
  await expect(cell("Balances", 'data-asset="BTC"', 3)).toHaveText("10");
});

test("a demo trade reaches the tape and the chart's last candle", async () => {
  await expect(newestTrade()).toBeVisible({ timeout: 60_000 });
  const before = await newestTrade().getAttribute("data-trade-id");
  // a new trade arrives live on the tape...
  await expect(newestTrade()).not.toHaveAttribute("data-trade-id", before ?? "", { timeout: 30_000 });
  // ...and the chart's last candle closes at the newest trade's price
  await expect(async () => {
    const traded = Number(await newestTrade().getAttribute("data-price"));
    const close = Number(await lastCandle().getAttribute("data-close"));
    expect(close).toBe(traded);
  }).toPass({ timeout: 30_000 });
  expect(Number(await lastCandle().getAttribute("data-trades"))).toBeGreaterThan(0);
  expect(Number(await lastCandle().getAttribute("data-volume"))).toBeGreaterThan(0);
});

test("the ticker shows last, 24 h change, high, low and volume", async () => {
  for (const id of ["ticker-last", "ticker-change", "ticker-high", "ticker-low", "ticker-volume"]) {
    await expect(page.getByTestId(id)).not.toContainText("–", { timeout: 20_000 });
  }
  const high = Number((await page.getByTestId("ticker-high").textContent())?.replace(/[^\d.]/g, ""));
  const low = Number((await page.getByTestId("ticker-low").textContent())?.replace(/[^\d.]/g, ""));
  expect(high).toBeGreaterThanOrEqual(low);
});

test("the book shows ten levels a side with depth, groups by tick multiples, fills the form", async () => {
  await expect.poll(() => bids().count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
  await expect.poll(() => asks().count()).toBeGreaterThanOrEqual(10);
  await expect(page.getByRole("img", { name: /BTC-USDT depth chart/ })).toBeVisible();

  await region("Order book").getByLabel("Group").selectOption({ label: "10" });
  await expect(async () => {
    const prices = await page.getByTestId("bids").locator(".price").allTextContents();
    expect(prices.length).toBeGreaterThan(0);
    for (const price of prices) expect(Number(price) % 10).toBe(0);
  }).toPass();
  await region("Order book").getByLabel("Group").selectOption({ label: "0.01" });

  const level = bids().first();
  const price = await priceOf(level);
  await level.click();
  await expect(page.getByLabel("Price (USDT)")).toHaveValue(price);
});

test("shows a validation error at its field and sends nothing", async () => {
  await fillOrderForm("30000.001", "0.01");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(page.locator("#order-price-error")).toHaveText(/multiple of the tick size 0\.01/);
  await expect(page.getByLabel("Price (USDT)")).toHaveAttribute("aria-invalid", "true");
  await fillOrderForm("30000.00", "0.0001");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(page.locator("#order-form-error")).toHaveText(/Order value below the minimum: .*at least 10 USDT/);
  await expect(openOrders()).toHaveCount(0);
});

test("the order form estimates cost and fee", async () => {
  await fillOrderForm("30000.00", "0.01");
  await expect(page.getByTestId("estimate-notional")).toHaveText("300 USDT");
  await expect(page.getByTestId("estimate-fee")).toHaveText("0.3 USDT");
  await expect(page.getByTestId("estimate-total")).toHaveText("300.3 USDT");
  await expect(page.getByTestId("estimate-available")).toHaveText("1000000 USDT");
});

test("the order form shows the risk headroom for the side selected and the rule that binds", async () => {
  const headroom = region("Risk headroom");
  const base = headroom.getByTestId("headroom-base");
  await fillOrderForm("30000.00", "0.01");
  await expect(headroom.getByTestId("headroom-at")).toHaveText(/at 30000 USDT$/);
  // 1,000,000 USDT buys 1,000,000 / (30000 x 1.001, the taker fee reserved) BTC, on the lot
  await expect(base).toHaveText("33.30003 BTC");
  await expect(headroom.getByTestId("headroom-quote")).toHaveText("999000.9 USDT");
  await expect(headroom.getByTestId("headroom-binding"))
    .toHaveText("Not enough available balance (insufficient_funds)");

  // the other side of the same answer: Alice's 10 BTC
  await page.getByRole("radio", { name: "Sell" }).click();
  await expect(headroom).toHaveAttribute("data-side", "sell");
  await expect(headroom.getByText("Can sell up to")).toBeVisible();
  await expect(base).toHaveText("10 BTC");
  await expect(headroom.getByTestId("headroom-quote")).toHaveText("300000 USDT");

  // every rule, by keyboard; axe-core passes with it open
  const rules = headroom.getByText("Every rule (sell)");
  await rules.focus();
  await page.keyboard.press("Enter");
  await expect(headroom.locator('tr[data-rule="insufficient_funds"]')).toHaveClass("binding");
  await expect(headroom.locator('tr[data-rule="order_size"] td')).toHaveText("33.33333 BTC");
  await expectAccessible("risk headroom open");
  await page.keyboard.press("Enter");

  // a price typed key by key is asked once it is typed, not once a key
  const asked: string[] = [];
  const count = (request: { url: () => string }) => {
    if (request.url().includes("/api/risk/headroom")) asked.push(request.url());
  };
  page.on("request", count);
  await page.getByLabel("Price (USDT)").fill("");
  await page.getByLabel("Price (USDT)").pressSequentially("31000.00", { delay: 40 });
  await expect(headroom.getByTestId("headroom-at")).toHaveText(/at 31000 USDT$/);
  await expect(headroom).toHaveAttribute("aria-busy", "false");
  page.off("request", count);
  expect(asked.length, asked.join("\n")).toBeLessThanOrEqual(2);
  expect(asked.at(-1)).toMatch(/price=31000(&|$)/);
  await expect(base).toHaveText("10 BTC");

  await page.getByRole("radio", { name: "Buy" }).click();
  await expect(base).toHaveText("32.22583 BTC"); // 1,000,000 / (31000 x 1.001)
});

test("an order amended inline from its row changes price and quantity", async () => {
  await fillOrderForm("30000.00", "0.01");
  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/api/orders"));
  await page.getByRole("button", { name: "Buy BTC" }).dblclick(); // one order all the same
  const headers = (await sent).headers();
  expect(headers["idempotency-key"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(headers["x-csrftoken"]).toBeTruthy();
  await expect(openOrders()).toHaveCount(1);
  await expect(openOrders().first()).toContainText("ACCEPTED");
  await expect(cell("Balances", 'data-asset="USDT"', 2)).toHaveText("300.3");

  await openOrders().first().getByRole("button", { name: "Amend" }).click();
  await page.getByLabel("New price").fill("30000.005");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(region("Open orders").getByRole("alert")).toHaveText(/tick size/);
  await page.getByLabel("New price").fill("31000.00");
  await page.getByLabel("New quantity").fill("0.02");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(openOrders().first().locator("td").nth(3)).toHaveText("31000");
  await expect(openOrders().first().locator("td").nth(4)).toHaveText("0.02");
  await expect(cell("Balances", 'data-asset="USDT"', 2)).toHaveText("620.62");

  // An amend the form lets through and the processor refuses: the row says so, unchanged.
  await openOrders().first().getByRole("button", { name: "Amend" }).click();
  await page.getByLabel("New quantity").fill("1000");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(openOrders().first().getByRole("note"))
    .toHaveText(/^Amend refused at \d\d:\d\d:\d\d: .+ \((insufficient_funds|order_size)\)$/);
  await expect(openOrders().first().locator("td").nth(4)).toHaveText("0.02");
  await expect(cell("Balances", 'data-asset="USDT"', 2)).toHaveText("620.62");
});

test("cancel all empties the open orders; the history keeps them with status and reason", async () => {
  await fillOrderForm("29000.00", "0.01");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(openOrders()).toHaveCount(2);
  await region("Open orders").getByRole("button", { name: "Cancel all" }).click();
  await expect(openOrders()).toHaveCount(0);
  await expect(cell("Balances", 'data-asset="USDT"', 2)).toHaveText("0");
  const cancelled = region("Order history").locator('tbody tr[data-status="CANCELLED"]');
  await expect(cancelled).toHaveCount(2);
  await expect(cancelled.first()).toContainText("Cancelled by you (user)");
});

test("a refused order shows its reason code in plain words", async () => {
  // 999,900 USDT and its fee: within the order size limit, more than Alice has
  await fillOrderForm("30000.00", "33.33");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Order rejected" }))
    .toContainText("Not enough available balance (insufficient_funds)");
  const rejected = region("Order history").locator('tbody tr[data-status="REJECTED"]');
  await expect(rejected).toHaveCount(1);
  await expect(rejected).toContainText("insufficient_funds");
  await expect(openOrders()).toHaveCount(0);
});

test("a crossing order fills: fills, position with unrealized P&L, balances", async () => {
  // the market maker replaces its ladder as the price walks: wait for a full one
  await expect.poll(() => asks().count()).toBeGreaterThanOrEqual(5);
  await asks().nth(await asks().count() - 4).click(); // a few levels up: crosses for sure
  await page.getByLabel("Quantity (BTC)").fill("0.01");
  await expect(page.getByTestId("estimate")).toContainText("Est. fee (taker 0.001)");
  const headroom = region("Risk headroom");
  await expect(headroom).toHaveAttribute("aria-busy", "false");
  await expect(headroom.getByTestId("headroom-base")).toHaveText(/ BTC$/);
  const roomBefore = await headroom.getByTestId("headroom-base").textContent();
  await page.getByRole("button", { name: "Buy BTC" }).click();

  const fills = region("Fills");
  await expect(fills.locator("tbody tr").first()).toContainText("taker");
  await expect(cell("Positions", 'data-symbol="BTC-USDT"', 1)).toHaveText("0.01");
  await expect(cell("Positions", 'data-symbol="BTC-USDT"', 3)).not.toHaveText("–");
  await expect(cell("Positions", 'data-symbol="BTC-USDT"', 4)).toHaveText(/^-?\d+\.\d\d$/);
  await expect(cell("Balances", 'data-asset="BTC"', 3)).toHaveText("10.01");
  // the fill spent USDT: the headroom is read again by itself, less is left to buy
  await expect(headroom.getByTestId("headroom-base")).not.toHaveText(roomBefore ?? "");
  await expect(openOrders()).toHaveCount(0);
  await expect(region("Order history").locator('tbody tr[data-status="SETTLED"], tbody tr[data-status="FILLED"]'))
    .toHaveCount(1);
});

test("every control is reachable by keyboard, and a book level picks its price by Enter", async () => {
  await page.getByLabel("Symbol").focus();
  const reached = new Set<string>();
  for (let i = 0; i < 150; i += 1) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return "";
      return el.getAttribute("aria-label") ?? el.id ?? "";
    }));
    reached.add(await page.evaluate(() => (document.activeElement?.textContent ?? "").trim().slice(0, 20)));
  }
  for (const name of ["5m", "order-price", "order-quantity", "Every rule (buy)", "Buy BTC"]) {
    expect([...reached], `Tab reaches ${name}`).toContain(name);
  }
  await expect.poll(() => asks().count()).toBeGreaterThanOrEqual(1);
  await asks().last().focus();
  const price = await page.evaluate(() => document.activeElement?.querySelector(".price")?.textContent ?? "");
  expect(price).not.toBe("");
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Price (USDT)")).toHaveValue(price);
});

test("the interval picker shows 5-minute candles", async () => {
  await page.getByRole("button", { name: "5m" }).click();
  await expect(page.getByRole("button", { name: "5m" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("img", { name: "BTC-USDT five-minute candles" }).locator("g.candle").last())
    .toHaveAttribute("data-trades", /[1-9]/);
  await page.getByRole("button", { name: "1m" }).click();
  await expect(lastCandle()).toBeVisible();
});

test("logged in at 1280 px the screen passes axe-core", async () => {
  await expectAccessible("logged in, 1280 px");
  // the picture for the README: a full book (the market maker requotes as prices walk)
  await expect.poll(() => asks().count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(10);
  await expect.poll(() => bids().count()).toBeGreaterThanOrEqual(10);
  await page.screenshot({ path: `${SCREENSHOTS}/trading-main.png`, fullPage: false });
  if (README_SCREENSHOT) await page.screenshot({ path: README_SCREENSHOT, fullPage: false });
});

test("on a 390 px phone screen nothing overflows sideways and axe-core passes", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole("form", { name: "Order entry" })).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  for (const name of ["Price chart", "Order book", "Trades", "Open orders", "Risk headroom"]) {
    await expect(region(name)).toBeVisible();
  }
  await page.getByLabel("Quantity (BTC)").scrollIntoViewIfNeeded();
  await expectAccessible("logged in, 390 px");
  await page.screenshot({ path: `${SCREENSHOTS}/trading-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 1000 });
});

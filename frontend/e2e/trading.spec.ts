import { type APIRequestContext, expect, type Page, request, test } from "@playwright/test";

/**
 * Alice trades in the UI (session login); Bob, the counterparty, uses the REST API with his
 * token. One page for the whole story, in order: each step builds on the last.
 */
test.describe.configure({ mode: "serial" });

const SCREENSHOTS = "../test-artifacts";
let page: Page;
let bob: APIRequestContext;

const openOrders = () => page.getByRole("region", { name: "Open orders" }).locator("tbody tr");
const bookLevel = (side: "bids" | "asks", price: string) =>
  page.getByTestId(side).getByRole("button", { name: new RegExp(`^${price.replace(".", "\\.")} `) });
const cell = (region: string, rowAttr: string, column: number) =>
  page.getByRole("region", { name: region }).locator(`tr[${rowAttr}] td`).nth(column);

async function placeAsBob(side: "buy" | "sell", price: string, quantity: string): Promise<string> {
  const response = await bob.post("/api/orders", {
    data: { symbol: "BTC-USDT", side, type: "limit", quantity, price, time_in_force: "GTC" },
  });
  expect(response.status(), await response.text()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function fillOrderForm(price: string, quantity: string): Promise<void> {
  await page.getByLabel("Price (USDT)").fill(price);
  await page.getByLabel("Quantity (BTC)").fill(quantity);
}

test.beforeAll(async ({ browser, baseURL }) => {
  page = await browser.newPage();
  bob = await request.newContext({
    baseURL, extraHTTPHeaders: { Authorization: `Token ${process.env.E2E_BOB_TOKEN ?? ""}` },
  });
});

test.afterAll(async () => {
  await bob.dispose();
  await page.close();
});

test("logs in with the Django session", async () => {
  await page.goto("/");
  await expect(page.getByTestId("connection-market")).toHaveAttribute("data-status", "open");
  await page.getByRole("link", { name: "Log in" }).first().click();
  await page.locator("#id_username").fill("alice");
  await page.locator("#id_password").fill("alice-demo-password");
  await page.locator("#submit-id-submit").click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("form", { name: "Order entry" })).toBeVisible();
  await expect(page.getByTestId("connection-orders")).toHaveAttribute("data-status", "open");
  await expect(cell("Balances", 'data-asset="BTC"', 3)).toHaveText("10");
});

test("the book and the ticker move", async () => {
  const ticker = page.getByTestId("ticker");
  await expect(ticker).not.toContainText("Reference –");
  const first = await ticker.textContent();
  await expect(ticker).not.toHaveText(first ?? ""); // the simulator's reference price walks
  await placeAsBob("sell", "70000.00", "0.01");
  await expect(bookLevel("asks", "70000")).toBeVisible();
  await placeAsBob("sell", "71000.00", "0.02");
  await expect(bookLevel("asks", "71000")).toBeVisible();
  await expect(page.getByTestId("spread")).toContainText("No spread");
});

test("shows a validation error at its field and sends nothing", async () => {
  await fillOrderForm("65000.001", "0.01");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(page.locator("#order-price-error")).toHaveText(/multiple of the tick size 0\.01/);
  await expect(page.getByLabel("Price (USDT)")).toHaveAttribute("aria-invalid", "true");
  await fillOrderForm("65000.00", "0.0001");
  await page.getByRole("button", { name: "Buy BTC" }).click();
  await expect(page.locator("#order-form-error")).toHaveText(/at least 10 USDT/);
  await expect(openOrders()).toHaveCount(0);
});

test("a limit order rests, is amended, and is cancelled", async () => {
  await fillOrderForm("65000.00", "0.01");
  const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/api/orders"));
  await page.getByRole("button", { name: "Buy BTC" }).dblclick(); // one order all the same
  const headers = (await sent).headers();
  expect(headers["idempotency-key"]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(headers["x-csrftoken"]).toBeTruthy();
  await expect(bookLevel("bids", "65000")).toBeVisible();
  await expect(openOrders()).toHaveCount(1);
  await expect(openOrders().first()).toContainText("ACCEPTED");
  await expect(cell("Balances", 'data-asset="USDT"', 2)).not.toHaveText("0");
  await expect(page.getByTestId("spread")).toHaveText("Spread 5000");

  await openOrders().first().getByRole("button", { name: "Amend" }).click();
  await page.getByLabel("New price").fill("64000.005");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("region", { name: "Open orders" }).getByRole("alert"))
    .toHaveText(/tick size/);
  await page.getByLabel("New price").fill("64000.00");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(bookLevel("bids", "64000")).toBeVisible();
  await expect(bookLevel("bids", "65000")).toHaveCount(0);

  await openOrders().first().getByRole("button", { name: "Cancel" }).click();
  await expect(openOrders()).toHaveCount(0);
  await expect(bookLevel("bids", "64000")).toHaveCount(0);
  await expect(cell("Balances", 'data-asset="USDT"', 2)).toHaveText("0");
});

test("a crossing order fills: fills, position and balances change", async () => {
  await expect(cell("Balances", 'data-asset="BTC"', 3)).toHaveText("10");
  await bookLevel("asks", "70000").click(); // the price comes from the book
  await expect(page.getByLabel("Price (USDT)")).toHaveValue("70000");
  await page.getByLabel("Quantity (BTC)").fill("0.01");
  await page.getByRole("button", { name: "Buy BTC" }).click();

  const fills = page.getByRole("region", { name: "Fills" });
  await expect(fills.locator("tbody tr").first()).toContainText("70000");
  await expect(fills.locator("tbody tr").first()).toContainText("taker");
  await expect(cell("Positions", 'data-symbol="BTC-USDT"', 1)).toHaveText("0.01");
  await expect(cell("Balances", 'data-asset="BTC"', 3)).toHaveText("10.01");
  await expect(cell("Balances", 'data-asset="USDT"', 3)).toHaveText("999299.3"); // 700 + 0.7 fee
  await expect(bookLevel("asks", "70000")).toHaveCount(0);
  await expect(openOrders()).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOTS}/trading-main.png`, fullPage: true });
});

test("the venue's trade reaches the ticker and the chart", async () => {
  await expect(page.getByTestId("ticker")).toContainText("Last 70000", { timeout: 5_000 });
  await expect(page.getByRole("img", { name: "BTC-USDT one-minute candles" }).locator("g.candle"))
    .toHaveCount(1, { timeout: 5_000 });
});

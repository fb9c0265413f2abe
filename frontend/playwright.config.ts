import { defineConfig } from "@playwright/test";

// Run by e2e/run.sh, which starts the stack and sets E2E_BASE_URL. Debian's chromium, no
// browser download; the flags keep it off the network (the machine has none but loopback).
export default defineConfig({
  testDir: "e2e",
  outputDir: "../test-artifacts/e2e/results",
  reporter: [["list"], ["html", { outputFolder: "../test-artifacts/e2e/report", open: "never" }]],
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  use: {
    baseURL: process.env.E2E_BASE_URL ?? "http://127.0.0.1:8000",
    viewport: { width: 1440, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
  },
});

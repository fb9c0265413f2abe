/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The UI is served by Django at `/` (same origin as /api and /ws), so the dev server
// proxies those paths to a local `make up` (web role on 8000).
const backend = process.env.OMS_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      "/api": backend,
      "/api-auth": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});

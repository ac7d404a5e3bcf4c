import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build goes into the Python package, which `bucketdex serve` ships and serves at `/`
// (src/bucketdex/server/ui_static.py).  `npm run dev` proxies the API to a local server.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/bucketdex/server/ui_dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    setupFiles: ["src/test/setup.ts"],
  },
});

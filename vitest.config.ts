import { defineConfig } from "vitest/config";

// Tests talk to the real Postgres, Redis and RabbitMQ on this machine, and some start
// throwaway servers; forks keep each file's connections and child processes apart.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/temp-dirs.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});

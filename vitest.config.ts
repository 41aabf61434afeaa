import { defineConfig } from "vitest/config";

// Tests talk to real Postgres, Redis and RabbitMQ servers (harness/servers.ts), and some start
// throwaway servers; forks keep each file's connections and child processes apart.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // servers.ts: the shared Postgres/Redis/RabbitMQ when they answer, else throwaway ones.
    globalSetup: ["test/setup/temp-dirs.ts", "test/setup/servers.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});

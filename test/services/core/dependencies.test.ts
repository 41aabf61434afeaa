import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServiceConfig } from "../../../services/core/config.js";
import { openDependencies } from "../../../services/core/dependencies.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, REDIS_URL, testQueueName, type TestDatabase } from "../../../harness/jobstack.js";

let db: TestDatabase;
const queue = testQueueName();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await deleteQueueTopology(queue).catch(() => undefined);
  await db?.drop();
});

const config = (env: Record<string, string> = {}) =>
  loadServiceConfig("worker", { DATABASE_URL: db.url, REDIS_URL, AMQP_URL, JOB_QUEUE: queue, DB_POOL_SIZE: "2", ...env });

describe("openDependencies", () => {
  it("opens everything, reports readiness, and closes twice without error", async () => {
    const deps = await openDependencies(config());
    const ready = await deps.readiness();
    expect(ready).toEqual({ ok: true, postgres: { ok: true }, schema: { ok: true }, redis: { ok: true }, rabbitmq: { ok: true } });
    const { job } = await deps.repo.submit({ type: "noop" });
    await deps.cache.put(job);
    expect(await deps.cache.get(job.id)).toMatchObject({ id: job.id });
    await deps.cache.delete(job.id);
    expect(await deps.metrics.registry.metrics()).toMatch(/jobstack_job_transitions_total\{from="none",to="PENDING",service="worker"\} 1/);
    await deps.close();
    await deps.close();
  });

  it("starts without RabbitMQ and Redis, and says so on readiness", async () => {
    const errors: string[] = [];
    const deps = await openDependencies(config({ AMQP_URL: "amqp://guest:guest@127.0.0.1:1", REDIS_URL: "redis://127.0.0.1:1" }), {
      queueConnectTimeoutMs: 300,
      onError: (source) => errors.push(source),
    });
    try {
      const ready = await deps.readiness(300);
      expect(ready.ok).toBe(false);
      expect(ready.postgres).toEqual({ ok: true });
      expect(ready.redis.ok).toBe(false);
      expect(ready.rabbitmq).toEqual({ ok: false, error: "not connected" });
      expect(errors).toContain("rabbitmq");
    } finally {
      await deps.close();
    }
  });

  it("fails fast when Postgres is unreachable, leaving nothing open", async () => {
    await expect(openDependencies(config({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" }))).rejects.toThrow(/ECONNREFUSED|connect/);
  });
});

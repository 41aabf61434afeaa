// The deferred RUNNING cache entry (services/worker/running-entry.ts), on the real Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { createRedis, JobCache, waitForRedis } from "../../../services/core/cache.js";
import type { Job } from "../../../services/core/jobs/types.js";
import { deferRunningEntry } from "../../../services/worker/running-entry.js";
import { REDIS_URL } from "../../../harness/jobstack.js";

const prefix = `test-running-${process.pid}-${Date.now()}:`;
let redis: Redis;
let cache: JobCache;

const job = (id: string): Job => ({
  id,
  type: "noop",
  state: "RUNNING",
  payload: {},
  result: null,
  error: null,
  attempts: 1,
  maxAttempts: 3,
  claim: 1,
  lockedBy: "w1",
  leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
  runAfter: new Date().toISOString(),
  dispatchedAt: null,
  idempotencyKey: null,
  version: 2,
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  redis = createRedis(REDIS_URL);
  expect(await waitForRedis(redis)).toBe(true);
  cache = new JobCache(redis, { prefix, ttlSeconds: 60 });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("deferRunningEntry", () => {
  it("writes nothing for a run settled before the delay", async () => {
    const id = "00000000-0000-7000-8000-000000000001";
    const entry = deferRunningEntry(cache, job(id), 50);
    await entry.settle();
    await sleep(100);
    expect(await cache.get(id)).toBeNull();
  });

  it("writes the RUNNING entry once the delay passed, and settle() waits for that write", async () => {
    const id = "00000000-0000-7000-8000-000000000002";
    const entry = deferRunningEntry(cache, job(id), 20);
    await sleep(80);
    await entry.settle();
    expect(await cache.get(id)).toMatchObject({ id, state: "RUNNING", claim: 1 });
  });
});

// JobCache's batch and housekeeping calls on the real Redis (services/core/cache.ts): putMany
// answers per job like put, delete and deleteMany remove entries, the default TTLs and prefix,
// ping, and every call failing soft, reported to onError, when Redis is unreachable.
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CachePutResult, createRedis, JobCache, waitForRedis } from "../../../services/core/cache.js";
import type { Job } from "../../../services/core/jobs/types.js";
import { REDIS_URL } from "../../../harness/jobstack.js";

const prefix = `test-many-${process.pid}-${Date.now()}:`;
let redis: Redis;
beforeAll(async () => {
  redis = createRedis(REDIS_URL);
  expect(await waitForRedis(redis)).toBe(true);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  const defaults = await redis.keys("jobstack:job:cache-many-default-*");
  if (defaults.length > 0) await redis.del(...defaults);
  redis.disconnect();
});

const fake = (id: string, version: number, state: Job["state"]): Job =>
  ({ id, version, state, type: "noop", attempts: 0, maxAttempts: 3, payload: null, result: null, error: null, createdAt: "", updatedAt: "", claim: 0 }) as unknown as Job;

describe("JobCache on a live Redis", () => {
  it("putMany writes each job unless a newer one is cached, with the TTL of its state", async () => {
    const cache = new JobCache(redis, { prefix, ttlSeconds: 600, activeTtlSeconds: 20 });
    expect(await cache.putMany([])).toEqual([]);
    expect(await cache.put(fake("b", 5, "RUNNING"))).toBe(CachePutResult.Written);
    const answers = await cache.putMany([fake("a", 1, "PENDING"), fake("b", 4, "PENDING"), fake("c", 2, "COMPLETED")]);
    expect(answers).toEqual([CachePutResult.Written, CachePutResult.Stale, CachePutResult.Written]);
    expect((await cache.get("a"))?.version).toBe(1);
    expect((await cache.get("b"))?.version).toBe(5);
    const ttlA = await redis.ttl(cache.key("a"));
    const ttlC = await redis.ttl(cache.key("c"));
    expect(ttlA).toBeGreaterThan(10);
    expect(ttlA).toBeLessThanOrEqual(20);
    expect(ttlC).toBeGreaterThan(500);
    expect(ttlC).toBeLessThanOrEqual(600);
  });

  it("delete and deleteMany remove the entries named, and only those", async () => {
    const cache = new JobCache(redis, { prefix });
    await cache.putMany([fake("d1", 1, "PENDING"), fake("d2", 1, "PENDING"), fake("d3", 1, "PENDING"), fake("d4", 1, "PENDING")]);
    await cache.delete("d1");
    await cache.deleteMany(["d2", "d3"]);
    await cache.deleteMany([]);
    expect(await Promise.all(["d1", "d2", "d3", "d4"].map(async (id) => (await cache.get(id))?.id ?? null))).toEqual([null, null, null, "d4"]);
  });

  it("defaults: prefix jobstack:, an hour for settled jobs, 15 s for the rest; ping answers", async () => {
    const cache = new JobCache(redis);
    const id = `cache-many-default-${process.pid}`;
    expect(cache.key(id)).toBe(`jobstack:job:${id}`);
    await cache.put(fake(`${id}-done`, 1, "CANCELLED"));
    await cache.put(fake(`${id}-live`, 1, "RUNNING"));
    const done = await redis.ttl(`jobstack:job:${id}-done`);
    const live = await redis.ttl(`jobstack:job:${id}-live`);
    expect(done).toBeGreaterThan(3_500);
    expect(done).toBeLessThanOrEqual(3_600);
    expect(live).toBeGreaterThan(5);
    expect(live).toBeLessThanOrEqual(15);
    expect(await cache.ping()).toBe(true);
    // The active TTL never exceeds the settled one.
    const short = new JobCache(redis, { prefix, ttlSeconds: 5, activeTtlSeconds: 100 });
    await short.put(fake("short", 1, "PENDING"));
    expect(await redis.ttl(short.key("short"))).toBeLessThanOrEqual(5);
  });
});

describe("JobCache with nothing to do", () => {
  it("sends nothing for an empty batch (Redis would refuse a DEL without keys)", async () => {
    const errors: string[] = [];
    const cache = new JobCache(redis, { prefix, onError: (_err, op) => errors.push(op) });
    expect(await cache.putMany([])).toEqual([]);
    await cache.deleteMany([]);
    expect(errors).toEqual([]);
  });
});

describe("JobCache with Redis unreachable", () => {
  it("fails soft without an onError listener too", async () => {
    const dead = createRedis("redis://127.0.0.1:1");
    try {
      const cache = new JobCache(dead, { prefix });
      expect(await cache.put(fake("x", 1, "PENDING"))).toBeNull();
      expect(await cache.putMany([fake("x", 1, "PENDING")])).toEqual([null]);
      expect(await cache.get("x")).toBeNull();
      await expect(cache.delete("x")).resolves.toBeUndefined();
      await expect(cache.deleteMany(["x"])).resolves.toBeUndefined();
    } finally {
      dead.disconnect();
    }
  });


  it("fails soft on every call and reports each to onError with the operation", async () => {
    const errors: string[] = [];
    const dead = createRedis("redis://127.0.0.1:1");
    try {
      expect(await waitForRedis(dead, 200)).toBe(false);
      const cache = new JobCache(dead, { prefix, onError: (_err, op) => errors.push(op) });
      expect(await cache.put(fake("x", 1, "PENDING"))).toBeNull();
      expect(await cache.putMany([fake("x", 1, "PENDING"), fake("y", 1, "PENDING")])).toEqual([null, null]);
      expect(await cache.get("x")).toBeNull();
      await cache.delete("x");
      await cache.deleteMany(["x", "y"]);
      expect(await cache.ping()).toBe(false);
      expect(errors.slice(0, 1)).toEqual(["put"]);
      expect(errors).toContain("get");
      expect(errors.filter((op) => op === "delete")).toHaveLength(2);
      expect(errors.filter((op) => op === "put").length).toBeGreaterThanOrEqual(2);
    } finally {
      dead.disconnect();
    }
  });
});

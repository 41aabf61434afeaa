import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type pg from "pg";
import { CachePutResult, createRedis, JobCache, readJob, waitForRedis } from "../../../services/core/cache.js";
import { createPool } from "../../../services/core/db.js";
import { JobRepository } from "../../../services/core/jobs/repository.js";
import type { Job } from "../../../services/core/jobs/types.js";
import { createTestDatabase, REDIS_URL, type TestDatabase } from "../../../harness/jobstack.js";
import { startRedis, type Throwaway } from "../../support/throwaway.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;
const clients: Redis[] = [];
const servers: Throwaway[] = [];
const prefix = `test-${process.pid}-${Date.now()}:`;

async function cacheOn(url: string): Promise<{ redis: Redis; cache: JobCache }> {
  const redis = createRedis(url);
  clients.push(redis);
  expect(await waitForRedis(redis)).toBe(true);
  return { redis, cache: new JobCache(redis, { prefix, ttlSeconds: 60 }) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url });
  repo = new JobRepository(pool);
});
afterEach(async () => {
  for (const r of clients.splice(0)) r.disconnect();
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(async () => {
  try {
    const { redis } = await cacheOn(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  } finally {
    await pool?.end();
    await db?.drop();
  }
});

const fake = (id: string, version: number, state: Job["state"]): Job =>
  ({ id, version, state, type: "noop", attempts: 0, maxAttempts: 3, payload: null, result: null, error: null, createdAt: "", updatedAt: "", claim: 0 }) as unknown as Job;

describe("JobCache TTLs", () => {
  it("keeps settled jobs long and jobs that can still change briefly, so a lost write heals", async () => {
    const { redis } = await cacheOn(REDIS_URL);
    const cache = new JobCache(redis, { prefix, ttlSeconds: 3600, activeTtlSeconds: 15 });
    const ttlOf = async (state: Job["state"]) => {
      const id = crypto.randomUUID();
      await cache.put(fake(id, 1, state));
      return redis.ttl(cache.key(id));
    };
    for (const state of ["PENDING", "RUNNING", "FAILED"] as const) {
      const ttl = await ttlOf(state);
      expect(ttl, state).toBeGreaterThan(0);
      expect(ttl, state).toBeLessThanOrEqual(15);
    }
    for (const state of ["COMPLETED", "CANCELLED"] as const) expect(await ttlOf(state), state).toBeGreaterThan(3000);
  });
});

describe("JobCache versioning", () => {
  it("never lets an older write replace a newer one", async () => {
    const { cache } = await cacheOn(REDIS_URL);
    const id = crypto.randomUUID();
    expect(await cache.put(fake(id, 3, "COMPLETED"))).toBe(CachePutResult.Written);
    expect(await cache.put(fake(id, 2, "RUNNING"))).toBe(CachePutResult.Stale);
    expect(await cache.put(fake(id, 3, "RUNNING"))).toBe(CachePutResult.Stale);
    expect((await cache.get(id))?.state).toBe("COMPLETED");
  });

  it("keeps the newest of many writes arriving in random order", async () => {
    const { cache } = await cacheOn(REDIS_URL);
    const id = crypto.randomUUID();
    const versions = Array.from({ length: 50 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(versions.map((v) => cache.put(fake(id, v, v === 50 ? "COMPLETED" : "RUNNING"))));
    expect(await cache.get(id)).toMatchObject({ version: 50, state: "COMPLETED" });
  });

  it("replays the real transitions of a job out of order without regressing it", async () => {
    const { cache } = await cacheOn(REDIS_URL);
    const { job: pending } = await repo.submit({ type: "noop" });
    const c = await repo.claim(pending.id, "w", 10_000);
    if (!c.ok) throw new Error(c.message);
    const done = await repo.complete(pending.id, c.job.claim, "w", 42);
    if (!done.ok) throw new Error(done.message);
    for (const j of [done.job, c.job, pending]) await cache.put(j);
    expect(await readJob(pending.id, cache, (id) => repo.get(id))).toMatchObject({ state: "COMPLETED", result: 42 });
  });
});

describe("answers stay right whatever Redis does", () => {
  it("with Redis flushed: falls back to Postgres and refills", async () => {
    const server = await startRedis();
    servers.push(server);
    const { redis, cache } = await cacheOn(server.url);
    const { job } = await repo.submit({ type: "noop", payload: { x: 1 } });
    await cache.put(job);
    await redis.flushall();
    expect(await cache.get(job.id)).toBeNull();
    expect(await readJob(job.id, cache, (id) => repo.get(id))).toMatchObject({ id: job.id, state: "PENDING" });
    expect(await cache.get(job.id)).toMatchObject({ id: job.id, state: "PENDING" });
  });

  it("with a tiny maxmemory under allkeys-lru: every read matches Postgres", async () => {
    const server = await startRedis({ args: ["--maxmemory", "1mb", "--maxmemory-policy", "allkeys-lru"] });
    servers.push(server);
    const { redis, cache } = await cacheOn(server.url);
    const big = "x".repeat(8_000);
    const jobs = await Promise.all(Array.from({ length: 160 }, async (_, i) => (await repo.submit({ type: "noop", payload: { big, i } })).job));
    for (const j of jobs) await cache.put(j);
    // Move half of them on and write those through, as the worker would after each commit.
    await Promise.all(
      jobs.slice(0, 80).map(async (j) => {
        const c = await repo.claim(j.id, "w", 10_000);
        if (!c.ok) throw new Error(c.message);
        await cache.put(c.job);
        const d = await repo.complete(j.id, c.job.claim, "w", { i: 1 });
        if (d.ok) await cache.put(d.job);
      }),
    );
    const info = await redis.info("stats");
    expect(Number(/evicted_keys:(\d+)/.exec(info)?.[1])).toBeGreaterThan(0);
    for (const j of jobs) {
      const truth = await repo.get(j.id);
      const seen = await readJob(j.id, cache, (id) => repo.get(id));
      expect({ id: seen?.id, state: seen?.state, version: seen?.version }).toEqual({ id: truth?.id, state: truth?.state, version: truth?.version });
    }
  });

  it("with Redis stopped: get and put fail soft, reads come from Postgres", async () => {
    const server = await startRedis();
    servers.push(server);
    const { cache } = await cacheOn(server.url);
    const { job } = await repo.submit({ type: "noop" });
    await cache.put(job);
    await server.kill();
    expect(await cache.ping()).toBe(false);
    expect(await cache.put(job)).toBeNull();
    expect(await cache.get(job.id)).toBeNull();
    const c = await repo.claim(job.id, "w", 10_000);
    expect(c.ok).toBe(true);
    expect(await readJob(job.id, cache, (id) => repo.get(id))).toMatchObject({ state: "RUNNING" });
  });
});

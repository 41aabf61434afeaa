// Retention on a real Postgres with windows of a second or two: batched deletion of final jobs,
// audit partitions created ahead and dropped whole (survivors kept), the default partition's
// orphans, the maintenance pass that also drops cache entries, and a duplicate message for a
// deleted job.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type pg from "pg";
import { createRedis, JobCache, waitForRedis } from "../../../../services/core/cache.js";
import { createPool } from "../../../../services/core/db.js";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import { JobRetention, parsePartitionBound, uuidv7Floor, uuidv7Ms } from "../../../../services/core/jobs/retention.js";
import { JobQueue } from "../../../../services/core/queue.js";
import { uuidv7 } from "../../../../services/core/uuid.js";
import { createHandlerRegistry } from "../../../../services/handlers/index.js";
import { Maintenance } from "../../../../services/worker/maintenance.js";
import { Worker } from "../../../../services/worker/worker.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, REDIS_URL, sleep, testQueueName, type TestDatabase } from "../../../../harness/jobstack.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;
let redis: Redis;
let cache: JobCache;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url });
  repo = new JobRepository(pool);
  redis = createRedis(REDIS_URL);
  await waitForRedis(redis);
  cache = new JobCache(redis, { prefix: `test-retention-${process.pid}:`, ttlSeconds: 60 });
});
afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function completed(): Promise<string> {
  const { job } = await repo.submit({ type: "noop", payload: {} });
  const c = await repo.claim(job.id, "w", 10_000);
  if (!c.ok) throw new Error(c.message);
  const done = await repo.complete(job.id, c.job.claim, "w", { ok: true });
  if (!done.ok) throw new Error(done.message);
  return job.id;
}

async function failed(): Promise<string> {
  const { job } = await repo.submit({ type: "noop", payload: {}, maxAttempts: 1 });
  const c = await repo.claim(job.id, "w", 10_000);
  if (!c.ok) throw new Error(c.message);
  const f = await repo.fail(job.id, c.job.claim, "w", { error: new Error("boom"), retryable: false });
  if (!f.ok) throw new Error(f.message);
  return job.id;
}

const auditRows = async (id: string) =>
  Number((await pool.query<{ n: string }>("select count(*) as n from job_transitions where job_id = $1::uuid", [id])).rows[0]!.n);

describe("uuidv7 partition bounds", () => {
  it("round-trips a millisecond and parses Postgres's bound text", () => {
    const ms = Date.UTC(2026, 10, 30, 17, 45, 0);
    expect(uuidv7Ms(uuidv7Floor(ms))).toBe(ms);
    expect(uuidv7Floor(ms) <= uuidv7()).toBe(true);
    expect(parsePartitionBound("p", `FOR VALUES FROM ('${uuidv7Floor(ms)}') TO ('${uuidv7Floor(ms + 1000)}')`)).toEqual({ name: "p", fromMs: ms, toMs: ms + 1000 });
    expect(parsePartitionBound("p", `FOR VALUES FROM (MINVALUE) TO ('${uuidv7Floor(ms)}')`)?.fromMs).toBeNull();
    expect(parsePartitionBound("d", "DEFAULT")).toBeNull();
  });
});

describe("JobRetention.deleteExpired", () => {
  it("deletes final jobs past their state's retention in batches, and nothing else", async () => {
    const done = await Promise.all(Array.from({ length: 7 }, () => completed()));
    const kept = await failed(); // failed: kept forever (0) below
    const { job: pending } = await repo.submit({ type: "noop", payload: {} });
    await sleep(1_200);
    const fresh = await completed(); // finished after the window started: not yet expired
    const retention = new JobRetention(pool, { window: { completed: 1, failed: 0, cancelled: 1 }, batchSize: 3, batchPauseMs: 10 });
    const batches: string[][] = [];
    const deleted = await retention.deleteExpired(async (ids) => void batches.push(ids));
    expect(deleted).toBe(7);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]); // one statement per batch of 3
    expect(new Set(batches.flat())).toEqual(new Set(done));
    for (const id of done) {
      expect(await repo.get(id)).toBeNull();
      // GET /jobs/:id/transitions answers 404 from an empty log, like a job that never existed,
      // although the audit rows stay until their partition is dropped.
      expect(await repo.transitions(id)).toEqual([]);
    }
    expect((await repo.get(kept))?.state).toBe("FAILED");
    expect((await repo.get(pending.id))?.state).toBe("PENDING");
    expect((await repo.get(fresh))?.state).toBe("COMPLETED");
    expect(await repo.transitions(fresh)).toHaveLength(3);
  });

  it("skips a row another transaction holds instead of waiting for it", async () => {
    const id = await completed();
    await sleep(1_100);
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("select id from jobs where id = $1::uuid for update", [id]);
      const retention = new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } });
      await retention.deleteExpired();
      expect(await repo.get(id)).not.toBeNull();
      await client.query("rollback");
    } finally {
      client.release();
    }
    await new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } }).deleteExpired();
    expect(await repo.get(id)).toBeNull();
  });
});

describe("audit partitions", () => {
  it("creates partitions ahead, drops expired ones whole and keeps the audit rows of jobs that still exist", async () => {
    const retention = new JobRetention(pool, { window: { completed: 1, failed: 3600, cancelled: 1 }, partitionSeconds: 1, partitionsAhead: 3 });
    const { created } = await retention.maintainPartitions();
    expect(created.length).toBeGreaterThanOrEqual(3);
    const ranges = await retention.partitions();
    const now = Date.now();
    expect(ranges.some((p) => p.fromMs !== null && p.fromMs <= now && now < p.toMs)).toBe(true);

    const gone = await completed();
    const survivor = await failed(); // kept an hour: its audit rows must survive the drop
    const { rows } = await pool.query<{ part: string }>(
      "select tableoid::regclass::text as part from job_transitions where job_id = $1::uuid limit 1",
      [gone],
    );
    const partition = rows[0]!.part;
    expect(partition).toMatch(/^job_transitions_p/);
    await sleep(2_300); // the 1 s span has ended more than the 1 s retention ago
    await retention.deleteExpired();
    expect(await repo.get(gone)).toBeNull();
    expect(await auditRows(gone)).toBe(3); // orphans until the partition goes

    const { dropped } = await retention.maintainPartitions();
    expect(dropped.dropped).toContain(partition);
    expect(dropped.survivorsMoved).toBeGreaterThanOrEqual(3);
    expect(await auditRows(gone)).toBe(0);
    const log = await repo.transitions(survivor);
    expect(log.map((t) => t.to)).toEqual(["PENDING", "RUNNING", "FAILED"]);
    const where = await pool.query<{ part: string }>("select distinct tableoid::regclass::text as part from job_transitions where job_id = $1::uuid", [survivor]);
    expect(where.rows.map((r) => r.part)).toEqual(["job_transitions_default"]);

    // Once the survivor goes too, the default partition's orphan pass removes its rows.
    await pool.query("update jobs set updated_at = now() - interval '2 hours' where id = $1::uuid", [survivor]);
    await retention.deleteExpired();
    expect(await repo.get(survivor)).toBeNull();
    expect(await auditRows(survivor)).toBe(0);
  });
});

describe("Maintenance.retainOnce", () => {
  it("deletes expired jobs and their cache entries, so the api answers 404", async () => {
    const id = await completed();
    const job = (await repo.get(id))!;
    await cache.put(job);
    expect(await cache.get(id)).not.toBeNull();
    await sleep(1_100);
    const name = testQueueName();
    const queue = new JobQueue({ url: AMQP_URL, queue: name });
    try {
      const m = new Maintenance({
        workerId: "m",
        repo,
        queue,
        cache,
        reaperIntervalMs: 60_000,
        sweeperIntervalMs: 60_000,
        sweepAfterMs: 60_000,
        retention: new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } }),
      });
      expect(await m.retainOnce()).toBeGreaterThanOrEqual(1);
      expect(await cache.get(id)).toBeNull();
      expect(await repo.get(id)).toBeNull();
    } finally {
      await queue.close();
    }
  });

  it("acks and drops a duplicate message for a job retention deleted", async () => {
    const id = await completed();
    await sleep(1_100);
    await new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } }).deleteExpired();
    expect(await repo.get(id)).toBeNull();
    const name = testQueueName();
    const queue = new JobQueue({ url: AMQP_URL, queue: name });
    try {
      await queue.connect();
      const worker = new Worker({
        workerId: "w-dup",
        leaseMs: 2_000,
        retryBaseMs: 40,
        retryMaxMs: 200,
        reaperIntervalMs: 60_000,
        sweeperIntervalMs: 60_000,
        sweepAfterMs: 60_000,
        shutdownTimeoutMs: 1_000,
        repo,
        queue,
        cache,
        registry: createHandlerRegistry(),
      });
      expect(await worker.handle(id)).toBe("ack");
      expect(await repo.get(id)).toBeNull(); // nothing was recreated
    } finally {
      await queue.close();
      await deleteQueueTopology(name);
    }
  });
});

describe("partitions after the default partition took rows", () => {
  it("leaves the span under way to the default partition and starts at the next one, without errors", async () => {
    const fresh = await createTestDatabase();
    const p = createPool({ databaseUrl: fresh.url });
    try {
      const r = new JobRepository(p);
      const { job } = await r.submit({ type: "noop", payload: {} }); // no range partition yet: lands in default
      const errors: Error[] = [];
      const retention = new JobRetention(p, { window: { completed: 3600, failed: 3600, cancelled: 3600 }, partitionSeconds: 3600, onError: (e) => errors.push(e) });
      const { created } = await retention.maintainPartitions();
      expect(errors).toEqual([]);
      expect(created).toHaveLength(2); // the next two hours; the current one stays in default
      const first = (await retention.partitions()).find((x) => x.fromMs !== null && x.fromMs > Date.now() - 3_600_000)!;
      expect(first.fromMs).toBeGreaterThan(uuidv7Ms(job.id));
      expect((await r.transitions(job.id)).map((t) => t.to)).toEqual(["PENDING"]);
      expect((await retention.maintainPartitions()).created).toEqual([]); // nothing to retry each pass
      expect(errors).toEqual([]);
    } finally {
      await p.end();
      await fresh.drop();
    }
  });
});

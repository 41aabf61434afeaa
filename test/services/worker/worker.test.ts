import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type pg from "pg";
import { createRedis, JobCache, waitForRedis } from "../../../services/core/cache.js";
import { createPool } from "../../../services/core/db.js";
import { dispatchJob } from "../../../services/core/dispatch.js";
import { JobRepository } from "../../../services/core/jobs/repository.js";
import { createMetrics } from "../../../services/core/metrics.js";
import { JobQueue } from "../../../services/core/queue.js";
import { createHandlerRegistry, type HandlerRegistry } from "../../../services/handlers/index.js";
import { Worker } from "../../../services/worker/worker.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, eventually, REDIS_URL, sleep, testQueueName, type TestDatabase } from "../../../harness/jobstack.js";

let db: TestDatabase;
let pool: pg.Pool;
let redis: Redis;
let repo: JobRepository;
let cache: JobCache;
const running: Array<{ worker: Worker; queue: JobQueue }> = [];
const queues: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url });
  repo = new JobRepository(pool);
  redis = createRedis(REDIS_URL);
  await waitForRedis(redis);
  cache = new JobCache(redis, { prefix: `test-${process.pid}:`, ttlSeconds: 30 });
});
afterEach(async () => {
  for (const { worker, queue } of running.splice(0)) {
    await worker.drain();
    await queue.close();
  }
  for (const q of queues.splice(0)) await deleteQueueTopology(q);
});
afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
  await db?.drop();
});

async function startWorker(registry: HandlerRegistry = createHandlerRegistry(), overrides: Partial<ConstructorParameters<typeof Worker>[0]> = {}) {
  const name = testQueueName();
  queues.push(name);
  const metrics = createMetrics({ defaultMetrics: false });
  const queue = new JobQueue({ url: AMQP_URL, queue: name, prefetch: 4, onDeadLetter: (reason) => metrics.deadLettered.inc({ reason }) });
  await queue.connect();
  const worker = new Worker({
    workerId: `w-${running.length}`,
    leaseMs: 2_000,
    retryBaseMs: 40,
    retryMaxMs: 200,
    reaperIntervalMs: 200,
    sweeperIntervalMs: 200,
    sweepAfterMs: 300,
    shutdownTimeoutMs: 2_000,
    repo,
    queue,
    cache,
    registry,
    metrics,
    ...overrides,
  });
  await worker.start();
  running.push({ worker, queue });
  return { worker, queue, metrics };
}

async function submitAndDispatch(queue: JobQueue, type: string, payload: unknown, maxAttempts = 3) {
  const { job } = await repo.submit({ type, payload, maxAttempts });
  expect((await dispatchJob(queue, repo, job)).dispatched).toBe(true);
  return job;
}

const finalState = (id: string) =>
  eventually(`job ${id} final`, async () => {
    const j = await repo.get(id);
    return j && (j.state === "COMPLETED" || j.state === "FAILED" || j.state === "CANCELLED") ? j : null;
  });

describe("Worker", () => {
  it("runs builtin jobs to COMPLETED and writes the result through to the cache", async () => {
    const { queue } = await startWorker();
    const jobs = await Promise.all([
      submitAndDispatch(queue, "noop", null),
      submitAndDispatch(queue, "sleep", { ms: 20 }),
      submitAndDispatch(queue, "hash", { rounds: 1000 }),
    ]);
    for (const j of jobs) {
      const done = await finalState(j.id);
      expect(done.state).toBe("COMPLETED");
      expect((await repo.transitions(j.id)).map((t) => t.to)).toEqual(["PENDING", "RUNNING", "COMPLETED"]);
      await eventually("cache", async () => (await cache.get(j.id))?.state === "COMPLETED");
    }
  });

  it("retries a retryable failure with backoff and ends FAILED after maxAttempts, every attempt audited", async () => {
    const { queue } = await startWorker();
    const job = await submitAndDispatch(queue, "fail", { message: "flaky", retryable: true }, 4);
    const done = await finalState(job.id);
    expect(done).toMatchObject({ state: "FAILED", attempts: 4, error: { message: "flaky" } });
    const log = await repo.transitions(job.id);
    expect(log.map((t) => `${t.from}>${t.to}@${t.attempt}`)).toEqual([
      "null>PENDING@0",
      ...[1, 2, 3].flatMap((n) => [`PENDING>RUNNING@${n}`, `RUNNING>PENDING@${n}`]),
      "PENDING>RUNNING@4",
      "RUNNING>FAILED@4",
    ]);
    // Each retry waited for its backoff: the next claim comes no earlier than the planned delay.
    const retries = log.filter((t) => t.to === "PENDING" && t.from === "RUNNING");
    for (const r of retries) {
      const planned = Number(/retry in (\d+) ms/.exec(r.reason ?? "")?.[1]);
      const next = log.find((t) => t.seq > r.seq && t.to === "RUNNING")!;
      expect(Date.parse(next.at) - Date.parse(r.at)).toBeGreaterThanOrEqual(planned - 5);
    }
  });

  it("fails a permanent failure at once, and a bad payload or a type unknown past the bound too", async () => {
    // unknownTypeFailAfterMs 0: no waiting for a worker that has the type (test/services/worker/unknown-type.test.ts).
    const { queue } = await startWorker(createHandlerRegistry(), { unknownTypeFailAfterMs: 0 });
    const permanent = await submitAndDispatch(queue, "fail", { message: "bad input", retryable: false }, 5);
    const unknown = await submitAndDispatch(queue, "no-such-type", {}, 5);
    const badPayload = await submitAndDispatch(queue, "sleep", { ms: "soon" }, 5);
    for (const j of [permanent, unknown, badPayload]) {
      const done = await finalState(j.id);
      expect(done).toMatchObject({ state: "FAILED", attempts: 1 });
      expect((await repo.transitions(j.id)).at(-1)?.reason).toMatch(/^permanent failure/);
    }
    expect((await repo.get(unknown.id))!.error).toMatchObject({ message: expect.stringMatching(/^no worker has a handler for job type "no-such-type"/) });
    expect((await repo.get(badPayload.id))!.error).toMatchObject({ message: expect.stringMatching(/^invalid payload for job type "sleep": payload\.ms: /) });
  });

  it("dead-letters an unparseable message and keeps going", async () => {
    const { queue, metrics } = await startWorker();
    await queue.publishRaw(Buffer.from("\u0000garbage"));
    const job = await submitAndDispatch(queue, "noop", null);
    expect((await finalState(job.id)).state).toBe("COMPLETED");
    await eventually("dead letter", async () => (await queue.depth()).dead === 1);
    expect((await metrics.deadLettered.get()).values[0]?.value).toBe(1);
  });

  it("acks and drops duplicates: the handler runs once per job", async () => {
    const registry = createHandlerRegistry();
    const runs = new Map<string, number>();
    registry.register("count", { run: async (_p, ctx) => void runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1) });
    const { queue } = await startWorker(registry);
    const jobs = await Promise.all(Array.from({ length: 20 }, () => submitAndDispatch(queue, "count", null)));
    await Promise.all(jobs.map((j) => queue.publish(j.id))); // every message twice
    for (const j of jobs) expect((await finalState(j.id)).state).toBe("COMPLETED");
    await eventually("queue drained", async () => (await queue.depth()).ready === 0);
    expect([...runs.values()]).toEqual(Array(20).fill(1));
  });

  it("dispatches a job the API never published, through the sweeper", async () => {
    await startWorker();
    const { job } = await repo.submit({ type: "noop" }); // committed, publish "lost"
    expect((await finalState(job.id)).state).toBe("COMPLETED");
  });

  it("re-sends a PENDING job whose confirmed message was lost, once it is older than redispatchAfterMs", async () => {
    await startWorker(undefined, { redispatchAfterMs: 500 });
    const { job } = await repo.submit({ type: "noop" });
    expect(await repo.markDispatched(job.id)).toBe(true); // "confirmed", but no message exists
    expect((await finalState(job.id)).state).toBe("COMPLETED");
  });

  it("keeps completing jobs with Redis unreachable: Postgres is the source of truth", async () => {
    const deadRedis = createRedis("redis://127.0.0.1:1");
    try {
      const { queue } = await startWorker(undefined, { cache: new JobCache(deadRedis) });
      const jobs = await Promise.all([1, 2, 3].map(() => submitAndDispatch(queue, "noop", null)));
      for (const j of jobs) expect((await finalState(j.id)).state).toBe("COMPLETED");
    } finally {
      deadRedis.disconnect();
    }
  });

  it("drain finishes short jobs and releases long ones without using up an attempt", async () => {
    const { worker, queue } = await startWorker(undefined, { shutdownTimeoutMs: 3_000 });
    const short = await submitAndDispatch(queue, "sleep", { ms: 500 });
    const long = await submitAndDispatch(queue, "sleep", { ms: 60_000 });
    await eventually("both running", async () => (await repo.get(short.id))?.state === "RUNNING" && (await repo.get(long.id))?.state === "RUNNING", 30_000, 10);
    const result = await worker.drain();
    expect(result).toEqual({ finished: 1, released: 1 });
    expect((await repo.get(short.id))?.state).toBe("COMPLETED");
    expect(await repo.get(long.id)).toMatchObject({ state: "PENDING", attempts: 0, dispatchedAt: null });
    expect((await repo.transitions(long.id)).at(-1)).toMatchObject({ from: "RUNNING", to: "PENDING", reason: "released by a stopping worker" });
    await sleep(50);
  });

  it("claims ahead of its handler slots: at most `concurrency` handlers run, the claimed jobs wait with their leases renewed, and drain hands back the unstarted ones", async () => {
    // prefetch 4 (startWorker's queue), one handler slot, leases of 4 s: a job waiting for the
    // slot longer than its lease keeps it only if it is renewed from the claim on.
    const { worker, queue } = await startWorker(undefined, { concurrency: 1, leaseMs: 4_000, shutdownTimeoutMs: 3_000 });
    const first = await submitAndDispatch(queue, "sleep", { ms: 9_000 });
    const rest = [await submitAndDispatch(queue, "sleep", { ms: 60_000 }), await submitAndDispatch(queue, "sleep", { ms: 60_000 })];
    await eventually("all three claimed", async () => (await Promise.all([first, ...rest].map((j) => repo.get(j.id)))).every((j) => j?.state === "RUNNING"), 30_000, 10);
    // Past the lease and several reaper passes: nothing was reaped (one claim each).
    await sleep(6_000);
    for (const j of [first, ...rest]) expect((await repo.get(j.id))?.claim, j === first ? "running" : "waiting").toBe(1);
    expect((await repo.get(first.id))?.state).toBe("RUNNING");
    await eventually("first completed", async () => (await repo.get(first.id))?.state === "COMPLETED", 30_000, 10);
    // One of the others now runs (released when the shutdown timeout ends); the last one still
    // waits for the slot (released at once). The first may still be writing its cache entry
    // (Redis is slow on a loaded machine), so drain may count it too: finished or, past the
    // shutdown timeout, "released" (its release is refused: it is COMPLETED).
    const result = await worker.drain();
    expect(result.finished + result.released).toBeGreaterThanOrEqual(2);
    expect((await repo.get(first.id))?.state).toBe("COMPLETED");
    for (const j of rest) {
      expect(await repo.get(j.id)).toMatchObject({ state: "PENDING", attempts: 0, claim: 1 });
      expect((await repo.transitions(j.id)).at(-1)).toMatchObject({ from: "RUNNING", to: "PENDING", reason: "released by a stopping worker" });
    }
    await sleep(50);
  });

  it("drain waits for a claim sent before it began, and hands that job back instead of leaving it RUNNING", async () => {
    const { worker, queue } = await startWorker(undefined, { concurrency: 1 });
    const { job } = await repo.submit({ type: "sleep", payload: { ms: 60_000 } });
    // A row lock holds the worker's claim statement until the drain has begun.
    const locker = await pool.connect();
    try {
      await locker.query("begin");
      await locker.query("select id from jobs where id = $1::uuid for update", [job.id]);
      await queue.publish(job.id); // not dispatchJob: its dispatch mark would wait for the lock too
      await eventually("the claim waits for the row lock", async () =>
        (await pool.query<{ n: number }>("select count(*)::integer as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]!.n > 0,
      30_000, 10);
      const draining = worker.drain();
      await sleep(300);
      await locker.query("commit");
      expect(await draining).toEqual({ finished: 0, released: 1 });
    } finally {
      locker.release();
    }
    // Handed back by the time drain returned: nothing waits for the lease to run out.
    expect(await repo.get(job.id)).toMatchObject({ state: "PENDING", attempts: 0, claim: 1 });
    expect((await repo.transitions(job.id)).at(-1)).toMatchObject({ from: "RUNNING", to: "PENDING", reason: "released by a stopping worker" });
  });
});

/**
 * The bounded job queue (docs/storage.md) on a throwaway RabbitMQ node, with a tiny bound:
 * publishes beyond it are refused (reject-publish), those jobs stay PENDING and undispatched in
 * Postgres, and the sweeper dispatches them once a worker drains the queue. The dead-letter queue
 * is bounded by length too (drop-head: dead letters do not come from a publisher). A queue declared earlier without the bound (an older release) is used
 * as it is instead of failing with PRECONDITION_FAILED.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import amqp from "amqplib";
import type pg from "pg";
import { createPool } from "../../services/core/db.js";
import { dispatchJob, dispatchResult } from "../../services/core/dispatch.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import type { Job } from "../../services/core/jobs/types.js";
import { JobQueue } from "../../services/core/queue.js";
import { createMetrics } from "../../services/core/metrics.js";
import { createStorageMetrics } from "../../services/core/storage-metrics.js";
import { Maintenance } from "../../services/worker/maintenance.js";
import { createTestDatabase, eventually, testQueueName, type TestDatabase } from "../../harness/jobstack.js";
import { startRabbitMQ, type Throwaway } from "../support/throwaway.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;
let broker: Throwaway;
const open: JobQueue[] = [];

function queue(name: string, extra: Partial<ConstructorParameters<typeof JobQueue>[0]> = {}): JobQueue {
  const q = new JobQueue({ url: broker.url, queue: name, maxReconnectDelayMs: 500, ...extra });
  open.push(q);
  return q;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url });
  repo = new JobRepository(pool);
  broker = await startRabbitMQ();
}, 180_000);
afterAll(async () => {
  for (const q of open) await q.close().catch(() => undefined);
  await broker?.stop(); // the whole node goes, with its queues
  await pool?.end();
  await db?.drop();
});

describe("bounded job queue (reject-publish)", () => {
  it.each(["quorum", "classic"] as const)(
    "%s: a job the full queue refuses stays PENDING, and the sweeper dispatches it once the queue drains",
    { timeout: 120_000 },
    async (queueType) => {
      const name = testQueueName();
      const metrics = createMetrics({ defaultMetrics: false });
      const api = queue(name, { queueType, maxLength: 3, deadLetterMaxLength: 2 });
      await api.connect(30_000);
      createStorageMetrics(metrics.registry, { queue: api, maxLength: 3, deadLetterMaxLength: 2 });

      const jobs: Job[] = [];
      for (let i = 0; i < 6; i++) jobs.push((await repo.submit({ type: "noop", payload: { i } })).job);
      const results: string[] = [];
      for (const job of jobs) {
        const r = await dispatchJob(api, repo, job); // what POST /jobs does after the commit (it answers 202 either way)
        metrics.dispatches.inc({ source: "api", result: dispatchResult(r) });
        results.push(dispatchResult(r));
      }
      await repo.flushDispatchMarks(); // the accepted jobs' marks are written in the background
      // A quorum queue checks the length before it enqueues, so it takes one message beyond the
      // bound (RabbitMQ 3.10); a classic queue stops at it.
      const accepted = queueType === "quorum" ? 4 : 3;
      const refused = jobs.length - accepted;
      expect(results).toEqual([...Array(accepted).fill("ok"), ...Array(refused).fill("rejected")]);
      expect((await api.depth()).ready).toBe(accepted);
      for (const job of jobs.slice(accepted)) expect(await repo.get(job.id)).toMatchObject({ state: "PENDING", dispatchedAt: null });
      const text = await metrics.registry.metrics();
      expect(text).toMatch(new RegExp(`jobstack_dispatches_total\\{source="api",result="rejected"\\} ${refused}`));
      expect(text).toMatch(new RegExp(`jobstack_queue_messages\\{queue="jobs"\\} ${accepted}`));
      expect(text).toMatch(/jobstack_queue_max_messages\{queue="jobs"\} 3/);

      // No worker yet: the sweeper finds the queue still full and leaves the jobs undispatched.
      const maintenance = new Maintenance({ workerId: "sweeper", repo, queue: api, reaperIntervalMs: 60_000, sweeperIntervalMs: 60_000, sweepAfterMs: 0, metrics });
      expect(await maintenance.sweepOnce()).toBe(0);
      const swept = await metrics.registry.metrics();
      expect(swept).toMatch(new RegExp(`jobstack_dispatches_total\\{source="sweeper",result="rejected"\\} ${refused}`));

      // A worker drains the queue (claims and completes each job), then the sweeper sends the rest.
      const seen: string[] = [];
      const consumer = queue(name, { queueType, maxLength: 3, deadLetterMaxLength: 2, prefetch: 10 });
      await consumer.connect(30_000);
      await consumer.consume(async (id) => {
        seen.push(id);
        const c = await repo.claim(id, "w", 10_000);
        if (c.ok) await repo.complete(id, c.job.claim, "w", null);
        return "ack";
      });
      await eventually("the first three consumed", async () => seen.length >= 3, 30_000);
      await eventually("the sweeper dispatches the refused jobs", async () => {
        await maintenance.sweepOnce();
        return (await Promise.all(jobs.map((j) => repo.get(j.id)))).every((j) => j?.state === "COMPLETED");
      }, 30_000, 200);
      expect(new Set(seen)).toEqual(new Set(jobs.map((j) => j.id)));
      await consumer.stopConsuming();
    },
  );

  it("bounds the dead-letter queue: beyond it, the oldest dead letters go", { timeout: 60_000 }, async () => {
    const name = testQueueName();
    const q = queue(name, { maxLength: 10, deadLetterMaxLength: 2 });
    await q.connect(30_000);
    await q.consume(async () => "ack");
    for (let i = 0; i < 5; i++) await q.publishRaw(Buffer.from(`not json ${i}`));
    await eventually("every message consumed", async () => (await q.depth()).ready === 0, 30_000, 200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await q.depth()).dead).toBe(2);
    await q.stopConsuming();
  });

  it("uses a queue an older release declared without the bound instead of failing to start", { timeout: 60_000 }, async () => {
    const name = testQueueName();
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createChannel();
    await ch.assertExchange(`${name}.dlx`, "fanout", { durable: true });
    await ch.assertQueue(`${name}.dead`, { durable: true, arguments: { "x-queue-type": "quorum" } });
    await ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": "quorum", "x-dead-letter-exchange": `${name}.dlx` } });
    await conn.close();

    const unbounded: string[] = [];
    const q = queue(name, { maxLength: 3, deadLetterMaxLength: 2, onUnbounded: (queueName) => unbounded.push(queueName) });
    await q.connect(30_000);
    expect(unbounded.sort()).toEqual([name, `${name}.dead`].sort());
    for (let i = 0; i < 5; i++) await q.publish(crypto.randomUUID()); // unbounded: all accepted
    expect((await q.depth()).ready).toBe(5);
    expect(q.isConnected()).toBe(true);
  });
});

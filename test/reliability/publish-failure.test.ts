/**
 * Publish failure after commit. The broker (a throwaway RabbitMQ node) is down when a job is
 * submitted: the publish fails, the job stays PENDING and undispatched. Once the broker is back,
 * the worker reconnects on its own and its sweeper dispatches the job, which completes once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPool } from "../../services/core/db.js";
import { dispatchJob } from "../../services/core/dispatch.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import { JobQueue } from "../../services/core/queue.js";
import { createTestDatabase, eventually, killAllWorkers, sleep, spawnWorker, testQueueName, workerEnv, type TestDatabase } from "../../harness/jobstack.js";
import { startRabbitMQ, type Throwaway } from "../support/throwaway.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;
let broker: Throwaway;
let api: JobQueue;
const queueName = testQueueName();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url });
  repo = new JobRepository(pool);
  broker = await startRabbitMQ();
  // Stands in for the API's publisher.
  api = new JobQueue({ url: broker.url, queue: queueName, maxReconnectDelayMs: 500 });
  await api.connect(30_000);
}, 180_000);
afterEach(async () => {
  expect(await killAllWorkers()).toBe(0); // each test stops the workers it started
});
afterAll(async () => {
  await killAllWorkers();
  await api?.close();
  await broker?.stop(); // the whole node goes, with its queues
  await pool?.end();
  await db?.drop();
});

describe("publish failure after commit", () => {
  it("leaves the job PENDING until the broker is back, then the sweeper dispatches it", { timeout: 180_000 }, async () => {
    const worker = spawnWorker(workerEnv(db, queueName, { AMQP_URL: broker.url, SWEEP_AFTER_MS: "300", SWEEPER_INTERVAL_MS: "200" }));
    const { job: warmup } = await repo.submit({ type: "noop" });
    expect((await dispatchJob(api, repo, warmup)).dispatched).toBe(true);
    await eventually("worker up", async () => (await repo.get(warmup.id))?.state === "COMPLETED", 60_000);

    await broker.kill();
    await eventually("publisher notices", async () => !api.isConnected(), 30_000);
    const { job } = await repo.submit({ type: "record", payload: {} }); // committed first …
    const result = await dispatchJob(api, repo, job); // … then the publish fails
    expect(result.dispatched).toBe(false);
    expect(result.error?.message).toMatch(/not connected/);
    await sleep(1_000); // several sweeper intervals: nothing can dispatch it while the broker is down
    expect(await repo.get(job.id)).toMatchObject({ state: "PENDING", dispatchedAt: null });

    await broker.restart!();
    const done = await eventually("dispatched by the sweeper and completed", async () => {
      const j = await repo.get(job.id);
      return j?.state === "COMPLETED" ? j : null;
    }, 90_000);
    expect(done.dispatchedAt).not.toBeNull();
    const log = await repo.transitions(job.id);
    expect(log.map((t) => t.to)).toEqual(["PENDING", "RUNNING", "COMPLETED"]);
    const runs = await pool.query("select count(*)::integer as n from handler_runs where job_id = $1::uuid", [job.id]);
    expect(runs.rows[0].n).toBe(1);

    worker.kill("SIGTERM");
    expect(await worker.exited, worker.output()).toBe(0);
  });
});

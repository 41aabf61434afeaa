/**
 * Postgres (a throwaway server) is SIGKILLed while a worker process runs a job, then restarted.
 * The worker survives the outage, and the job still ends COMPLETED with exactly one completion
 * in its audit log: either the worker records the outcome once Postgres is back, or the lease
 * runs out and the job is run again under a new claim.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPool } from "../../services/core/db.js";
import { dispatchJob } from "../../services/core/dispatch.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import { JobQueue } from "../../services/core/queue.js";
import { migrate } from "../../services/migrations/migrate.js";
import { AMQP_URL, deleteQueueTopology, eventually, killAllWorkers, spawnWorker, testQueueName, workerEnv } from "../../harness/jobstack.js";
import { startPostgres, type Throwaway } from "../support/throwaway.js";

let server: Throwaway;
let pool: pg.Pool;
let repo: JobRepository;
let queue: JobQueue;
const queueName = testQueueName();

beforeAll(async () => {
  server = await startPostgres();
  await migrate(server.url);
  pool = createPool({ databaseUrl: server.url, dbPoolSize: 2 });
  repo = new JobRepository(pool);
  queue = new JobQueue({ url: AMQP_URL, queue: queueName });
  await queue.connect();
}, 120_000);
afterEach(async () => {
  expect(await killAllWorkers()).toBe(0);
});
afterAll(async () => {
  await killAllWorkers();
  await queue?.close();
  await deleteQueueTopology(queueName);
  await pool?.end();
  await server?.stop();
});

describe("Postgres outage while a job runs", () => {
  it("the worker survives and the job completes exactly once", { timeout: 120_000 }, async () => {
    const env = workerEnv({ url: server.url }, queueName, {
      JOB_HANDLER_MODULES: "",
      LEASE_MS: "1500",
      REAPER_INTERVAL_MS: "200",
    });
    const w = spawnWorker(env);
    const { job } = await repo.submit({ type: "sleep", payload: { ms: 1_000 } });
    await dispatchJob(queue, repo, job);
    await eventually("job running", async () => (await repo.get(job.id))?.state === "RUNNING", 60_000);

    await server.kill();
    await new Promise((r) => setTimeout(r, 1_500)); // the handler finishes while Postgres is down
    await server.restart!();

    const done = await eventually("completed", async () => {
      const j = await repo.get(job.id);
      return j?.state === "COMPLETED" ? j : null;
    }, 60_000);
    expect(done.result).toEqual({ sleptMs: 1_000 });
    const log = await repo.transitions(job.id);
    expect(log.filter((t) => t.to === "COMPLETED")).toHaveLength(1);
    expect(log.at(-1)?.to).toBe("COMPLETED");

    // Still serving: a new job goes through.
    const { job: after } = await repo.submit({ type: "noop" });
    await dispatchJob(queue, repo, after);
    await eventually("second job", async () => (await repo.get(after.id))?.state === "COMPLETED", 60_000);
    w.kill("SIGTERM");
    expect(await w.exited, w.output()).toBe(0);
  });
});

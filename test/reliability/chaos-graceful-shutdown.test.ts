/**
 * Chaos: graceful shutdown under load. Every worker gets SIGTERM while jobs of up to 2 s run
 * (SHUTDOWN_TIMEOUT_MS 1 s): each finishes what it can, hands the rest back (RUNNING → PENDING,
 * "released by a stopping worker") and exits 0. No job is left RUNNING once they are gone, so
 * nothing waits for a lease to expire; fresh workers then finish every job exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, REDIS_URL, sleep, type TestDatabase } from "../../harness/jobstack.js";
import { reportLine } from "../../harness/checker.js";
import { dropWhenIdle, startCluster, type Cluster } from "../../harness/cluster.js";
import { tailOf } from "../../harness/services.js";

const JOBS = 400;
/** Submitted last, each far longer than the 1 s shutdown timeout: these must be released. */
const LONG_JOBS = 4;
let db: TestDatabase;
let cluster: Cluster | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await cluster?.stop();
  if (cluster) await deleteQueueTopology(cluster.queue);
  await dropWhenIdle(db);
});

describe("chaos: SIGTERM to every worker under load", () => {
  it("drains: no job stays RUNNING, every job completes once after new workers start", { timeout: 300_000 }, async () => {
    cluster = await startCluster({
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      amqpUrl: AMQP_URL,
      workers: 3,
      workerEnv: { SHUTDOWN_TIMEOUT_MS: "1000", LEASE_MS: "10000" },
    });
    const c = cluster;
    // Some short jobs, some longer than the shutdown timeout.
    const submissions = c.submitMany(JOBS, 8, { body: (i) => ({ type: "record", payload: { sleepMs: (i * 37) % 2000 } }) });
    const longJobsRunning = async () =>
      (await c.pool.query<{ n: number }>("select count(*)::integer as n from jobs where state = 'RUNNING' and (payload->>'sleepMs')::integer = 60000")).rows[0]!.n;
    const counts = async () =>
      (await c.pool.query<{ running: number; completed: number }>(
        "select count(*) filter (where state = 'RUNNING')::integer as running, count(*) filter (where state = 'COMPLETED')::integer as completed from jobs",
      )).rows[0]!;
    const stopAt = 20 + Math.floor(Math.random() * 60); // varies from run to run
    while ((await counts()).completed < stopAt) await sleep(100);
    await submissions;
    // However fast the machine got through the rest, the SIGTERM finds work to hand back: jobs
    // that run far longer than SHUTDOWN_TIMEOUT_MS, and the signal only once one of them runs.
    await c.submitMany(LONG_JOBS, LONG_JOBS, { body: () => ({ type: "record", payload: { sleepMs: 60_000, sleepOnClaim: 1 } }) });
    while ((await longJobsRunning()) === 0) await sleep(50);

    const stopping = [...c.workers];
    for (const w of stopping) w.kill("SIGTERM");
    const codes = await Promise.all(stopping.map((w) => w.exited));
    expect(codes, stopping.map((w) => tailOf(w)).join("\n")).toEqual(stopping.map(() => 0));
    // Every worker is gone: anything still RUNNING now would wait for its lease (10 s) to expire.
    const after = await counts();
    expect(after.running).toBe(0);
    const released = (await c.pool.query<{ n: number }>("select count(*)::integer as n from job_transitions where reason = 'released by a stopping worker'")).rows[0]!.n;
    expect(released, "some jobs were handed back by the draining workers").toBeGreaterThan(0);

    c.workers.length = 0;
    const restarted = Date.now();
    await c.startWorker();
    await c.startWorker();
    const report = await c.settle(120_000, restarted);
    reportLine("sigterm-every-worker-under-load", report, { released, completed_before_restart: after.completed });
    expect(report.problems, c.tails()).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.byState).toEqual({ COMPLETED: JOBS + LONG_JOBS });
    // A release gives the attempt back: no job was charged for the shutdown.
    const { rows } = await c.pool.query<{ n: number }>("select count(*)::integer as n from jobs where attempts > 1");
    expect(rows[0]!.n).toBe(0);
  });
});

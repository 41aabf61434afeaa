/**
 * Chaos: a worker SIGKILLed and replaced every second while 5,000 jobs go through the real api
 * and four worker processes. Killed workers leave claimed jobs RUNNING (their leases expire and
 * the reaper hands them out again) and unacked messages (the broker redelivers them; the claim
 * drops those whose job moved on). The checker must find nothing lost, duplicated or unexpected.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, deleteQueueTopology, AMQP_URL, REDIS_URL, type TestDatabase } from "../../harness/jobstack.js";
import { dropWhenIdle, sleep, startCluster, type Cluster } from "../../harness/cluster.js";
import { reportLine } from "../../harness/checker.js";

const JOBS = Number(process.env.CHAOS_WORKER_KILL_JOBS ?? 5_000);
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

describe("chaos: a worker SIGKILLed every second", () => {
  it(`runs ${JOBS} jobs to exactly one outcome each`, { timeout: 400_000 }, async () => {
    cluster = await startCluster({ databaseUrl: db.url, redisUrl: REDIS_URL, amqpUrl: AMQP_URL, workers: 4 });
    const c = cluster;
    let submitting = true;
    const submissions = c.submitMany(JOBS, 24).finally(() => (submitting = false));

    let kills = 0;
    let lastKill = Date.now();
    // Kill one worker a second, the longest-lived first (round robin over the slots), while jobs
    // are being submitted (and so running), and at least ten times whatever the speed. Four slots:
    // each worker lives four seconds, time enough to start and take jobs on a slow machine.
    while (kills < 10 || (submitting && kills < 120)) {
      await sleep(1_000);
      c.replaceWorker(kills % c.workers.length);
      kills++;
      lastKill = Date.now();
    }
    await submissions;

    const report = await c.settle(180_000, lastKill);
    reportLine("worker-sigkill-every-second", report, { kills });
    expect(report.problems, c.tails()).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.acknowledged).toBe(JOBS);
    expect(report.byState).toEqual({ COMPLETED: JOBS });
    expect(kills).toBeGreaterThanOrEqual(10);
    // The kills were real: some jobs were taken over after a lease expiry.
    const { rows } = await c.pool.query<{ n: number }>("select count(*)::integer as n from job_transitions where reason like 'lease expired%'");
    expect(rows[0]!.n).toBeGreaterThan(0);
  });
});

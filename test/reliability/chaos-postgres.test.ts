/**
 * Chaos: Postgres (a throwaway server) SIGKILLed for 5 s while jobs are submitted through the
 * real api and run by two workers. While it is down the api answers 503 for new jobs (never a
 * 2xx for a job it could not store, never a 500), the workers back off and resume without a
 * restart, and the checker finds nothing lost, duplicated or unexpected.
 */
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../../services/migrations/migrate.js";
import { AMQP_URL, deleteQueueTopology, REDIS_URL, sleep } from "../../harness/jobstack.js";
import { startPostgres, type Throwaway } from "../support/throwaway.js";
import { reportLine } from "../../harness/checker.js";
import { addHandlerRuns, startCluster, type Cluster } from "../../harness/cluster.js";

const OUTAGE_MS = 5_000;
let pg: Throwaway | undefined;
let cluster: Cluster | undefined;

afterAll(async () => {
  await cluster?.stop();
  if (cluster) await deleteQueueTopology(cluster.queue);
  await pg?.stop();
});

describe("chaos: Postgres down for 5 s", () => {
  it("answers 503 meanwhile, stores every job it acknowledged, and every job completes once", { timeout: 300_000 }, async () => {
    pg = await startPostgres();
    await migrate(pg.url);
    await addHandlerRuns(pg.url);
    cluster = await startCluster({ databaseUrl: pg.url, redisUrl: REDIS_URL, amqpUrl: AMQP_URL });
    const c = cluster;

    let submitting = true;
    const submissions = (async () => {
      while (submitting) await c.submitMany(50, 6, { until: () => !submitting, timeoutMs: 20_000, pauseAfterRefusalMs: 20 });
    })();
    const killAt = 80 + Math.floor(Math.random() * 200); // varies from run to run
    while (c.acknowledgedIds().length < killAt) await sleep(50);
    const down = Date.now();
    await pg.kill();
    await sleep(OUTAGE_MS);
    const restarting = Date.now();
    await pg.restart!();
    const up = Date.now();
    // Keep submitting until the api has taken jobs again after the outage.
    const ackedBefore = c.acknowledgedIds().length;
    while (c.acknowledgedIds().length < ackedBefore + 100) await sleep(50);
    submitting = false;
    await submissions;

    const report = await c.settle(120_000, up);
    const during = c.history.submissions.filter((s) => s.startedAt > down + 200 && s.endedAt < restarting);
    const statuses = (list: typeof during) => [...new Set(list.map((s) => s.status ?? "none"))].sort().join(",");
    reportLine("postgres-down-5s", report, { answered_during_outage: during.length, statuses_during_outage: statuses(during), outage_s: ((up - down) / 1000).toFixed(1) });

    expect(report.problems, c.tails()).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.byState).toEqual({ COMPLETED: report.acknowledged + report.recovered });
    // The api refused what it could not store, with 503 and nothing else.
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((s) => s.status !== 503)).toEqual([]);
    expect(c.history.submissions.filter((s) => s.status !== null && s.status >= 500 && s.status !== 503)).toEqual([]);
    // Nobody was restarted: the same api and workers carried on.
    expect(c.dead()).toEqual([]);
    expect(c.allWorkers).toHaveLength(2);
  });
});

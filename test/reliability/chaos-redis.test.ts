/**
 * Chaos: Redis (a throwaway server) SIGKILLed mid-run and restarted empty; and Redis at a
 * 1.5 MB maxmemory with 4 kB entries, evicting all the time while some reads still hit. Jobs go
 * through the real api and two workers while readers poll GET /jobs/:id; every answer is checked
 * against Postgres (test/reliability/support/status-check.ts), and the checker must find nothing
 * lost, duplicated or unexpected.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, sleep, type TestDatabase } from "../../harness/jobstack.js";
import { startRedis, type Throwaway } from "../support/throwaway.js";
import { reportLine } from "../../harness/checker.js";
import { dropWhenIdle, startCluster, type Cluster } from "../../harness/cluster.js";
import { finalReadsMatch, newStatusCheck, readContinuously } from "./support/status-check.js";

const JOBS = 400;
const ACTIVE_TTL_MS = 2_000; // CACHE_ACTIVE_TTL_SECONDS of the cluster (harness/cluster.ts)

let db: TestDatabase | undefined;
let redis: Throwaway | undefined;
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  if (cluster) await deleteQueueTopology(cluster.queue);
  await redis?.stop();
  if (db) await dropWhenIdle(db);
  cluster = undefined;
  redis = undefined;
  db = undefined;
});

async function run(scenario: string, redisArgs: string[], fault: (c: Cluster, r: Throwaway) => Promise<void>, padBytes = 0) {
  db = await createTestDatabase();
  redis = await startRedis({ args: redisArgs });
  cluster = await startCluster({ databaseUrl: db.url, redisUrl: redis.url, amqpUrl: AMQP_URL });
  const c = cluster;
  const check = newStatusCheck();
  let reading = true;
  const readers = readContinuously(c, check, ACTIVE_TTL_MS, () => !reading);
  const submissions = c.submitMany(JOBS, 8, { body: (i) => ({ type: "record", payload: { sleepMs: i % 5 === 0 ? 50 : 0, ...(padBytes ? { pad: "x".repeat(padBytes) } : {}) } }) });
  await fault(c, redis);
  const faultEnded = Date.now();
  await submissions;
  const report = await c.settle(120_000, faultEnded);
  reading = false;
  await readers;
  // Settled: once the short TTL of non-final entries has passed, every answer equals Postgres.
  await sleep(ACTIVE_TTL_MS + 500);
  const finalProblems = await finalReadsMatch(c, c.acknowledgedIds());
  reportLine(scenario, report, { reads: check.reads, from_cache: check.fromCache, stale: check.stale, max_stale_ms: check.maxStaleMs });
  expect(report.problems, c.tails()).toEqual([]);
  expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
  expect(report.acknowledged).toBe(JOBS);
  expect(report.byState).toEqual({ COMPLETED: JOBS });
  expect(check.problems.slice(0, 10)).toEqual([]);
  expect(check.reads).toBeGreaterThan(50);
  expect(finalProblems.slice(0, 10)).toEqual([]);
  expect(c.dead()).toEqual([]);
  return check;
}

describe("chaos: Redis", () => {
  it("killed mid-run and restarted empty: every answer matches Postgres", { timeout: 300_000 }, async () => {
    await run("redis-killed-restarted-empty", [], async (c, r) => {
      // The moment and the length of the outage vary from run to run.
      await waitAcknowledged(c, Math.floor(JOBS * (0.2 + Math.random() * 0.4)));
      await r.kill();
      await sleep(1_000 + Math.random() * 2_000); // answers come from Postgres meanwhile
      await r.restart!();
    });
  });

  it("at a 1.5 MB maxmemory with 4 kB entries, evicting all the time: every answer matches Postgres", { timeout: 300_000 }, async () => {
    let evicted = 0;
    // A few hundred entries fit: reads hit the cache while writes keep evicting older entries.
    await run("redis-maxmemory-1.5mb-evicting", ["--maxmemory", "1536kb", "--maxmemory-policy", "allkeys-lru"], async (c, r) => {
      await waitAcknowledged(c, JOBS);
      await sleep(1_000);
      const client = new Redis(r.url, { maxRetriesPerRequest: 1 });
      try {
        evicted = Number(/evicted_keys:(\d+)/.exec(await client.info("stats"))?.[1] ?? 0);
      } finally {
        client.disconnect();
      }
    }, 4_000);
    expect(evicted, "Redis evicted keys during the run").toBeGreaterThan(0);
  });
});

async function waitAcknowledged(c: Cluster, n: number): Promise<void> {
  while (c.acknowledgedIds().length < n) await sleep(50);
}

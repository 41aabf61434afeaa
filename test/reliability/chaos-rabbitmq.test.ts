/**
 * Chaos: the RabbitMQ node (a throwaway one) SIGKILLed and restarted three times in a row, at
 * three different moments: while jobs are being submitted, while they are being consumed, and
 * right after the clients reconnected (as soon as a consumer is back on the queue). The api and
 * both workers are never restarted: they must reconnect on their own (services/core/queue.ts),
 * the sweeper must publish what was committed while the broker was away, and every job must
 * complete within a bounded time after the last restart, exactly once.
 */
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, sleep, type TestDatabase } from "../../harness/jobstack.js";
import { startRabbitMQ, type Throwaway } from "../support/throwaway.js";
import { reportLine } from "../../harness/checker.js";
import { dropWhenIdle, startCluster, type Cluster } from "../../harness/cluster.js";

/** How long every job may take to complete after the last restart: the bound this test proves. */
const RECOVERY_BOUND_MS = 120_000;
let db: TestDatabase;
let broker: Throwaway | undefined;
let cluster: Cluster | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await cluster?.stop();
  await broker?.stop();
  await dropWhenIdle(db);
});

/** Consumers on the job queue, asked on a connection of our own; null while the node is unreachable. */
async function consumers(url: string, queue: string): Promise<number | null> {
  try {
    const conn = await amqp.connect(url, { timeout: 2_000 });
    try {
      const ch = await conn.createChannel();
      const q = await ch.checkQueue(queue);
      return q.consumerCount;
    } finally {
      await conn.close().catch(() => undefined);
    }
  } catch {
    return null;
  }
}

async function completed(c: Cluster): Promise<number> {
  return (await c.pool.query<{ n: number }>("select count(*)::integer as n from jobs where state = 'COMPLETED'")).rows[0]!.n;
}

describe("chaos: RabbitMQ SIGKILLed and restarted three times", () => {
  it("loses nothing, duplicates nothing, and every job completes after the last restart without restarting a process", { timeout: 600_000 }, async () => {
    broker = await startRabbitMQ();
    cluster = await startCluster({ databaseUrl: db.url, redisUrl: REDIS_URL, amqpUrl: broker.url });
    const c = cluster;
    const b = broker;
    const restarts: string[] = [];
    const killAndRestart = async (moment: string) => {
      const t0 = Date.now();
      await b.kill();
      await b.restart!();
      restarts.push(`${moment} (down ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    };

    // 1. During submissions: the api commits jobs it cannot publish; the sweeper sends them later.
    const first = c.submitMany(600, 8, { body: (i) => ({ type: "record", payload: { sleepMs: i % 10 === 0 ? 100 : 0 } }) });
    // The moments vary from run to run (a fault test must not pass by timing luck).
    const firstAt = 100 + Math.floor(Math.random() * 250);
    const secondAt = 20 + Math.floor(Math.random() * 100);
    console.log(`[chaos] rabbitmq: first kill after ${firstAt} acknowledged, second after ${secondAt} completed`);
    while (c.acknowledgedIds().length < firstAt) await sleep(50);
    await killAndRestart("during submissions");
    await first;

    // 2. During consumption: wait until workers take jobs again, then kill with messages in flight.
    const base = await completed(c);
    const second = c.submitMany(400, 8, { body: () => ({ type: "record", payload: { sleepMs: 200 } }) });
    while ((await completed(c)) < base + secondAt) await sleep(100);
    await killAndRestart("during consumption");
    await second;

    // 3. Right after a reconnect: as soon as a worker's consumer is back on the queue.
    while (((await consumers(b.url, c.queue)) ?? 0) < 1) await sleep(50);
    await killAndRestart("right after a reconnect");
    const lastRestart = Date.now();

    // After the last restart, new submissions must flow too.
    await c.submitMany(200, 8);
    const report = await c.settle(RECOVERY_BOUND_MS, lastRestart);
    reportLine("rabbitmq-sigkill-restart-x3", report, { restarts: restarts.length });
    console.log(`[chaos] rabbitmq restarts: ${restarts.join("; ")}`);

    expect(report.problems, c.tails()).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.byState).toEqual({ COMPLETED: report.acknowledged + report.recovered });
    expect(report.recoverMs).toBeLessThan(RECOVERY_BOUND_MS);
    // The same three processes all along: nothing was restarted to get here.
    expect(c.allWorkers).toHaveLength(2);
    expect(c.dead()).toEqual([]);
    // And they are consuming again (not merely alive).
    expect(await consumers(b.url, c.queue)).toBe(2);
  });
});

/**
 * Chaos: a worker stalled by SIGSTOP for longer than its lease (as a long GC pause or a frozen VM
 * would), mid-job, while more jobs go through the api. Another worker reaps the lease, takes the
 * job over and completes it once. After SIGCONT the stalled worker finishes its run and tries to
 * record it: the fencing check refuses that late completion, and the job keeps the one outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, eventually, REDIS_URL, sleep, type TestDatabase } from "../../harness/jobstack.js";
import { reportLine } from "../../harness/checker.js";
import { dropWhenIdle, startCluster, type Cluster } from "../../harness/cluster.js";

const LEASE_MS = 1_500;
const STALL_MS = 4 * LEASE_MS;
/**
 * Jobs submitted during the stall. The reaper re-publishes the stalled job behind them, so the
 * takeover waits for the taker to work through them: how long that takes depends on the machine
 * (minutes on two busy cores), which is why the waits below are long and the count is modest.
 */
const MORE = 100;
let db: TestDatabase;
let cluster: Cluster | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const w of cluster?.allWorkers ?? []) w.kill("SIGCONT");
  await cluster?.stop();
  if (cluster) await deleteQueueTopology(cluster.queue);
  await dropWhenIdle(db);
});

describe("chaos: a worker stalled longer than its lease", () => {
  it("loses its job to another worker, and its late completion is fenced off", { timeout: 480_000 }, async () => {
    cluster = await startCluster({ databaseUrl: db.url, redisUrl: REDIS_URL, amqpUrl: AMQP_URL, workers: 2, workerEnv: { LEASE_MS: String(LEASE_MS) } });
    const c = cluster;
    // The first run sleeps past the moment of the stall; a takeover (claim 2) runs at once.
    const target = await c.submit({ type: "record", payload: { sleepMs: STALL_MS / 2, sleepOnClaim: 1 } });
    expect(target.outcome).toBe("ok");
    const runOf = async (claim: number) =>
      (await c.pool.query<{ worker_id: string }>("select worker_id from handler_runs where job_id = $1::uuid and claim = $2::bigint", [target.id, claim])).rows[0]?.worker_id;
    const first = await eventually("the first run starts", () => runOf(1), 60_000, 20);
    const stalled = c.workers.find((w) => w.lines.some((l) => l.includes(`"workerId":"${first}"`)))!;
    const taker = c.workers.find((w) => w !== stalled)!;
    const takerId = first === "chaos-worker-1" ? "chaos-worker-2" : "chaos-worker-1";

    stalled.kill("SIGSTOP");
    const stoppedAt = Date.now();
    const more = c.submitMany(MORE, 8);
    await eventually("the job is taken over and completed", async () =>
      (await c.pool.query<{ state: string }>("select state from jobs where id = $1::uuid", [target.id])).rows[0]!.state === "COMPLETED", 240_000);
    const takenOverAfter = Date.now() - stoppedAt;
    await sleep(Math.max(0, STALL_MS - (Date.now() - stoppedAt)));
    stalled.kill("SIGCONT");
    const resumed = Date.now();
    await more;

    // The stalled worker wakes up, finishes claim 1 and is refused.
    await eventually("the stalled worker's late completion is refused", async () =>
      stalled.lines.some((l) => l.includes(target.id!) && l.includes("outcome refused by the fencing check")), 60_000);
    const report = await c.settle(120_000, resumed);
    reportLine("worker-sigstop-past-lease", report, { stall_s: (STALL_MS / 1000).toFixed(1), taken_over_after_s: (takenOverAfter / 1000).toFixed(1) });

    expect(report.problems, c.tails()).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected }).toEqual({ lost: 0, duplicated: 0, unexpected: 0 });
    expect(report.byState).toEqual({ COMPLETED: MORE + 1 });
    expect(await runOf(2)).toBe(takerId);
    const log = (await c.pool.query<{ from_state: string | null; to_state: string; claim: number; worker_id: string | null; reason: string }>(
      "select from_state, to_state, claim::integer, worker_id, reason from job_transitions where job_id = $1::uuid order by seq",
      [target.id],
    )).rows;
    expect(log.map((t) => `${t.from_state}>${t.to_state} claim=${t.claim} by=${t.worker_id}`)).toEqual([
      "null>PENDING claim=0 by=null",
      `PENDING>RUNNING claim=1 by=${first}`,
      `RUNNING>PENDING claim=1 by=${takerId}`,
      `PENDING>RUNNING claim=2 by=${takerId}`,
      `RUNNING>COMPLETED claim=2 by=${takerId}`,
    ]);
    expect(log[2]!.reason).toContain(`lease expired (claim 1 held by ${first})`);
    const job = (await c.status(target.id!)).body!;
    expect(job).toMatchObject({ state: "COMPLETED", result: { claim: 2 } });
    expect(stalled.running() && taker.running()).toBe(true);
  });
});

/**
 * The node leading the job queue of a three-node RabbitMQ cluster is SIGKILLed mid-run.
 *
 * A real cluster of throwaway nodes (test/support/rabbit-cluster.ts, joined with
 * `rabbitmqctl join_cluster`) serves the api process and two worker processes, which get every
 * node in AMQP_URL (services/core/amqp-endpoints.ts) and declare the job queue as a quorum queue
 * (a member on each node). While jobs keep arriving through the api, the node holding the
 * queue's Raft leader is killed. The survivors elect a new leader, the clients that were on the
 * dead node reconnect to the next one, and every accepted job (a 202 from the api) completes
 * exactly once — one → COMPLETED audit row each — while the cluster runs on two nodes. Then the
 * node comes back, rejoins as a follower, and the same holds for a second round of jobs.
 *
 * Recovery time (printed, not asserted: speed belongs in benchmarks) is from the kill to the first
 * completion of a job submitted after it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRabbitCluster, type RabbitCluster } from "../support/rabbit-cluster.js";
import { createTestDatabase, eventually, killAllWorkers, ROOT, sleep, spawnWorker, testQueueName, workerEnv, type TestDatabase, type WorkerProcess } from "../../harness/jobstack.js";
import { spareport, waitUntil } from "../../harness/ports.js";

const queue = testQueueName();
const token = randomUUID();
let cluster: RabbitCluster;
let db: TestDatabase;
let pool: pg.Pool;
let api: ChildProcess | undefined;
let apiOutput = "";
let apiPort = 0;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [cluster, db] = await Promise.all([startRabbitCluster(3), createTestDatabase()]);
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
}, 180_000);

afterAll(async () => {
  if (api && api.exitCode === null && api.signalCode === null) api.kill("SIGKILL");
  await killAllWorkers();
  await pool?.end();
  await db?.drop().catch(() => undefined);
  await cluster?.stop();
}, 120_000);

/** The api's publisher, and each of the two workers' publisher and consumer. */
const CLIENT_CONNECTIONS = 5;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return workerEnv(db, queue, {
    AMQP_URL: cluster.url,
    QUEUE_TYPE: "quorum",
    WORKER_CONCURRENCY: "4",
    LEASE_MS: "3000",
    ...extra,
  });
}

async function startApi(): Promise<void> {
  apiPort = await spareport();
  api = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "services/api/main.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env({ PORT: String(apiPort), HOST: "127.0.0.1", API_TOKEN: token }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api.stdout!.on("data", (d: Buffer) => (apiOutput = (apiOutput + d.toString()).slice(-20_000)));
  api.stderr!.on("data", (d: Buffer) => (apiOutput = (apiOutput + d.toString()).slice(-20_000)));
  await waitUntil("api ready", async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => null))?.status === 200, 60_000, () => apiOutput);
}

/** Submits a job through the api; resolves with its id when accepted (202), undefined otherwise. */
async function submit(): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${apiPort}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: "record", payload: { sleepMs: 20 }, maxAttempts: 5 }),
    });
    const body = (await res.json()) as { id?: string };
    return res.status === 202 ? body.id : undefined;
  } catch {
    return undefined;
  }
}

/** Client connections open on a node (each node has its own AMQP port). */
async function connectionsOn(port: number): Promise<number> {
  const rows = JSON.parse(await cluster.ctl("rabbitmqctl", ["list_connections", "port", "--formatter", "json"])) as { port: number }[];
  return rows.filter((r) => Number(r.port) === port).length;
}

/** Keeps submitting (two requests in flight) until stopped; collects accepted ids with when each request was sent. */
function submitter() {
  const accepted: { id: string; at: number }[] = [];
  let refused = 0;
  let running = true;
  const lane = async () => {
    while (running) {
      const sentAt = Date.now();
      const id = await submit();
      if (id) accepted.push({ id, at: sentAt });
      else refused++;
      await sleep(25);
    }
  };
  const lanes = [lane(), lane()];
  return {
    accepted,
    refused: () => refused,
    stop: async () => {
      running = false;
      await Promise.all(lanes);
    },
  };
}

async function completedCount(ids: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("select count(*)::integer as n from jobs where id = any($1::uuid[]) and state = 'COMPLETED'", [ids]);
  return rows[0]!.n;
}

async function waitAllCompleted(what: string, ids: readonly string[]): Promise<void> {
  await eventually(what, async () => (await completedCount(ids)) === ids.length, 120_000, 250).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await stuckReport(ids)}`);
  });
}

/**
 * Where unfinished jobs are stuck, shortest facts first (CI shows only the head of a long
 * message): their states and dispatch marks in Postgres, the queue as each live node sees it
 * (ready, unacked, consumers, leader), the client connections per node, then the processes' logs.
 */
async function stuckReport(ids: readonly string[]): Promise<string> {
  const facts = async (label: string, work: () => Promise<unknown>) => `${label}: ${await work().then((v) => JSON.stringify(v), (e: Error) => `(${e.message.slice(0, 200)})`)}`;
  const lines = await Promise.all([
    facts("states", async () => (await pool.query("select state, (dispatched_at is not null) as dispatched, count(*)::integer as n from jobs where id = any($1::uuid[]) group by 1, 2", [ids])).rows),
    facts("queue", async () => JSON.parse(await cluster.ctl("rabbitmqctl", ["list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers", "leader", "--formatter", "json"]))),
    facts("consumers", async () => JSON.parse(await cluster.ctl("rabbitmqctl", ["list_consumers", "queue_name", "channel_pid", "prefetch_count", "active", "--formatter", "json"]))),
    facts("connections", async () => JSON.parse(await cluster.ctl("rabbitmqctl", ["list_connections", "port", "client_properties", "--formatter", "json"])).map((c: { port: number }) => c.port)),
    facts("workers", async () => workers.map((w) => ({ pid: w.pid, exitCode: w.child.exitCode }))),
  ]);
  return [...lines, `api: ${apiOutput.slice(-3000)}`, ...workers.map((w) => `worker ${w.pid}: ${w.output().slice(-3000)}`)].join("\n");
}

/** The reliability suite's total check: each job exactly one → COMPLETED, and nothing else final. */
async function expectExactlyOnce(ids: readonly string[]): Promise<void> {
  const { rows } = await pool.query<{ job_id: string; n: number }>(
    "select j.id as job_id, count(t.*)::integer as n from jobs j left join job_transitions t on t.job_id = j.id and t.to_state = 'COMPLETED' where j.id = any($1::uuid[]) group by j.id",
    [ids],
  );
  expect(rows).toHaveLength(ids.length);
  expect(rows.filter((r) => r.n !== 1)).toEqual([]);
  const finals = await pool.query<{ n: number }>(
    "select count(*)::integer as n from job_transitions where job_id = any($1::uuid[]) and to_state in ('FAILED', 'CANCELLED')",
    [ids],
  );
  expect(finals.rows[0]!.n).toBe(0);
}

describe("a three-node RabbitMQ cluster losing the job queue's leader", () => {
  it("completes every accepted job exactly once on two nodes, and again after the node rejoins", { timeout: 600_000 }, async () => {
    await startApi();
    workers.push(spawnWorker(env({ WORKER_ID: "ha-1" })), spawnWorker(env({ WORKER_ID: "ha-2" })));

    // The queue is a quorum queue with a member on every node.
    const before = await eventually("queue declared on all three nodes", async () => {
      const s = await cluster.quorumStatus(queue).catch(() => null);
      return s && s.members.length === 3 && s.leader ? s : null;
    }, 60_000, 250);
    expect(before.members).toEqual(cluster.nodes.map((n) => n.node).sort());

    // Each connection starts at a random node of AMQP_URL: the api has one (its publisher), each
    // worker two (publisher and consumer, services/core/amqp-link.ts), five in all. Replace
    // workers until the leader's node carries at least two of them, so the kill cuts clients
    // along with the queue's leader.
    const victim = cluster.nodes.find((n) => n.node === before.leader)!;
    expect(victim).toBeDefined();
    let replaced = 0;
    while ((await connectionsOn(victim.port)) < 2 && replaced < 12) {
      const old = workers.shift()!;
      old.kill("SIGTERM");
      expect(await old.exited, old.output()).toBe(0);
      workers.push(spawnWorker(env({ WORKER_ID: `ha-${3 + replaced++}` })));
      await eventually("five client connections", async () => {
        const rows = JSON.parse(await cluster.ctl("rabbitmqctl", ["list_connections", "port", "--formatter", "json"])) as unknown[];
        return rows.length === CLIENT_CONNECTIONS;
      }, 60_000, 200);
    }
    const onVictim = await connectionsOn(victim.port);
    expect(onVictim, "two client connections on the leader's node").toBeGreaterThanOrEqual(2);

    // Round 1: jobs flow through the healthy cluster, then the leader's node is killed mid-run.
    const round1 = submitter();
    await eventually("jobs flowing", async () => round1.accepted.length >= 30 && (await completedCount(round1.accepted.map((a) => a.id))) >= 20, 60_000, 100);
    const killedAt = Date.now();
    await victim.kill();
    const survivors = cluster.nodes.filter((n) => n !== victim);

    // Keep submitting until jobs accepted after the kill have completed as well.
    await eventually("jobs accepted after the kill", async () => round1.accepted.filter((a) => a.at > killedAt).length >= 40, 120_000, 100);
    await round1.stop();
    const ids1 = round1.accepted.map((a) => a.id);
    await waitAllCompleted("round 1 completed on two nodes", ids1);
    // Still two nodes: the proof above ran without the killed one.
    expect(await cluster.runningNodes(survivors[0])).toEqual(survivors.map((n) => n.node).sort());
    const after = await cluster.quorumStatus(queue, survivors[0]);
    expect(survivors.map((n) => n.node)).toContain(after.leader);
    await expectExactlyOnce(ids1);

    // Recovery: from the kill to the first completion of a job whose request was sent after it,
    // and the longest pause between two completions from then on.
    const afterKill = round1.accepted.filter((a) => a.at > killedAt).map((a) => a.id);
    const first = await pool.query<{ at: Date }>(
      "select min(at) as at from job_transitions where job_id = any($1::uuid[]) and to_state = 'COMPLETED'",
      [afterKill],
    );
    const recoveryMs = first.rows[0]!.at.getTime() - killedAt;
    const times = await pool.query<{ at: Date }>("select at from job_transitions where job_id = any($1::uuid[]) and to_state = 'COMPLETED' order by at", [ids1]);
    const stamps = [killedAt, ...times.rows.map((r) => r.at.getTime()).filter((t) => t >= killedAt)];
    const longestPauseMs = Math.max(...stamps.slice(1).map((t, i) => t - stamps[i]!));
    console.log(
      `leader ${victim.node} killed with ${onVictim} client connections on it (${replaced} workers re-rolled); new leader ${after.leader}; ` +
        `first job sent after the kill completed ${recoveryMs} ms after it; longest pause between completions after the kill ${longestPauseMs} ms; ` +
        `round 1: ${ids1.length} accepted (${afterKill.length} after the kill), ${round1.refused()} refused`,
    );

    // Round 2: the node comes back under its name and rejoins; the queue gets its member back.
    const restartedAt = Date.now();
    await victim.restart!();
    await eventually("three running nodes", async () => (await cluster.runningNodes().catch(() => [])).length === 3, 120_000, 500);
    await eventually("the rejoined node follows the queue again", async () => {
      const s = await cluster.quorumStatus(queue).catch(() => null);
      return s !== null && s.followers.length === 2 && s.leader !== undefined;
    }, 120_000, 500);
    console.log(`node ${victim.node} rejoined ${Date.now() - restartedAt} ms after its restart began`);

    const round2 = submitter();
    await eventually("round 2 jobs accepted", async () => round2.accepted.length >= 40, 60_000, 100);
    await round2.stop();
    const ids2 = round2.accepted.map((a) => a.id);
    await waitAllCompleted("round 2 completed on three nodes", ids2);
    await expectExactlyOnce([...ids1, ...ids2]);
    expect(await cluster.runningNodes()).toEqual(cluster.nodes.map((n) => n.node).sort());

    // Orderly exit of every process.
    api!.kill("SIGTERM");
    for (const w of workers) w.kill("SIGTERM");
    const apiExit = await new Promise<number | string>((resolve) =>
      api!.exitCode !== null ? resolve(api!.exitCode) : api!.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
    );
    expect(apiExit, apiOutput).toBe(0);
    expect(await Promise.all(workers.map((w) => w.exited)), workers.map((w) => w.output()).join("\n")).toEqual([0, 0]);
  });
});

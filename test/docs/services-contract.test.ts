/**
 * docs/services-contract.md is the spec for workers in other languages: its ```sql blocks must be
 * exactly the statements of services/core/jobs/operations/, and the Node worker must run no
 * statement that the document does not show (one-at-a-time forms documented, and the batched
 * lease renewal a foreign worker may use too; the batched `_many` forms are the same moves for
 * several jobs and are a Node optimisation). The second half runs a
 * real in-process worker through every path (complete, retry, permanent failure, unknown type,
 * early message, reaper, sweeper, release on drain) and records what it sends to Postgres.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis, JobCache, PUT_IF_NEWER, waitForRedis } from "../../services/core/cache.js";
import { createPool } from "../../services/core/db.js";
import { dispatchJob } from "../../services/core/dispatch.js";
import * as q from "../../services/core/jobs/operations/index.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import { JobQueue } from "../../services/core/queue.js";
import { createHandlerRegistry } from "../../services/handlers/index.js";
import { Worker } from "../../services/worker/worker.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, eventually, REDIS_URL, ROOT, testQueueName, type TestDatabase } from "../../harness/jobstack.js";

const DOC = readFileSync(join(ROOT, "docs/services-contract.md"), "utf8");

/** Every ```sql <name> / ```lua <name> block of the document, by name. */
function documented(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of DOC.matchAll(/^```(?:sql|lua) ([a-z-]+)\n([\s\S]*?)\n```$/gm)) {
    expect(blocks.has(m[1]!), `block ${m[1]} appears twice`).toBe(false);
    blocks.set(m[1]!, m[2]!);
  }
  return blocks;
}

/** What the document must show: the statements a worker runs, one job at a time. */
const CONTRACT: Record<string, string> = {
  claim: q.MOVES.claim.one.text,
  "clear-dispatch": q.clearDispatch.text,
  "renew-lease": q.renewLease.text,
  "renew-leases": q.renewLeases.text,
  complete: q.MOVES.complete.one.text,
  "lock-job": q.lockJob.text,
  "update-job-and-audit": q.updateJobAndAudit.text,
  "ms-until-due": q.msUntilDue.text,
  "mark-dispatched": q.markDispatched.text,
  release: q.MOVES.release.one.text,
  defer: q.MOVES.defer.one.text,
  "lock-one-expired": q.lockOneExpired.text,
  "lock-undispatched": q.lockUndispatched.text,
  "stamp-dispatched": q.stampDispatched.text,
  "put-if-newer": PUT_IF_NEWER,
};

/** The batched forms of documented statements: the same statement over arrays, by document name. */
const BATCHED_FORM: Record<string, string> = {
  claim: q.MOVES.claim.many.text.trim(),
  complete: q.MOVES.complete.many.text.trim(),
  release: q.MOVES.release.many.text.trim(),
  defer: q.MOVES.defer.many.text.trim(),
  "mark-dispatched": q.markDispatchedMany.text.trim(),
  // The Node worker renews every lease it holds in one statement (services/worker/leases.ts).
  "renew-lease": q.renewLeases.text.trim(),
};
const BATCHED = new Set(Object.values(BATCHED_FORM));

describe("docs/services-contract.md", () => {
  it("shows every statement a worker runs, exactly as services/core/jobs/operations/ has it", () => {
    const blocks = documented();
    expect([...blocks.keys()].sort()).toEqual(Object.keys(CONTRACT).sort());
    for (const [name, text] of Object.entries(CONTRACT)) expect(blocks.get(name), name).toBe(text.trim());
  });

  it("names every environment variable the stacks give a worker", async () => {
    const { loadEnvironment, serviceEnvironment } = await import("../../stacks/config/index.js");
    const names = new Set([
      ...Object.keys(serviceEnvironment(loadEnvironment("prod"), "worker")),
      "JAVA_TOOL_OPTIONS",
      "DATABASE_URL",
      "REDIS_URL",
      "AMQP_URL",
    ]);
    for (const name of names) expect(DOC, name).toContain(`\`${name}\``);
  });
});

describe("the Node worker runs only documented statements", () => {
  let db: TestDatabase;
  let pool: pg.Pool; // the worker's, recorded
  let testPool: pg.Pool;
  let redis: Redis;
  const queueName = testQueueName();
  const ran = new Set<string>();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool({ databaseUrl: db.url });
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string };
        const text = typeof first === "string" ? first : first?.text;
        if (text) ran.add(text.trim());
        return query(...args);
      };
    });
    testPool = createPool({ databaseUrl: db.url });
    redis = createRedis(REDIS_URL);
    await waitForRedis(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await pool?.end();
    await testPool?.end();
    await deleteQueueTopology(queueName);
    await db?.drop();
  });

  it("through complete, retry, failure, unknown type, early message, reaper, sweeper and release", { timeout: 120_000 }, async () => {
    const repo = new JobRepository(pool);
    const mine = new JobRepository(testPool); // the test's own moves are not recorded
    const queue = new JobQueue({ url: AMQP_URL, queue: queueName, prefetch: 4 });
    await queue.connect();
    const cache = new JobCache(redis, { prefix: `test-${queueName}:`, ttlSeconds: 30 });
    const worker = new Worker({
      workerId: "contract-worker",
      leaseMs: 900,
      retryBaseMs: 40,
      retryMaxMs: 200,
      reaperIntervalMs: 150,
      sweeperIntervalMs: 150,
      sweepAfterMs: 200,
      shutdownTimeoutMs: 200,
      unknownTypeRetryMs: 100,
      repo,
      queue,
      cache,
      registry: createHandlerRegistry(),
    });
    await worker.start();
    const state = (id: string, s: string) => eventually(`${id} ${s}`, async () => (await mine.get(id))?.state === s, 30_000, 25);
    const submit = async (type: string, payload: unknown, maxAttempts = 3, publish = true) => {
      const { job } = await mine.submit({ type, payload, maxAttempts });
      if (publish) expect((await dispatchJob(queue, mine, job)).dispatched).toBe(true);
      return job;
    };

    const slow = await submit("sleep", { ms: 700 }); // renews its lease
    const retried = await submit("fail", { message: "flaky", retryable: true }, 2); // retry, then final
    const permanent = await submit("fail", { message: "bad" });
    const unknown = await submit("mystery", {}); // deferred
    const swept = await submit("noop", {}, 3, false); // never published: the sweeper sends it
    const early = await submit("noop", {}, 3, false);
    await testPool.query("update jobs set run_after = now() + interval '1 hour' where id = $1::uuid", [early.id]);
    await queue.publish(early.id); // claimed too early: refused, dispatch forgotten
    const ghost = await submit("noop", {}, 3, false);
    expect((await mine.claim(ghost.id, "ghost", 100)).ok).toBe(true); // a dead worker's lease: the reaper takes it back

    await Promise.all([state(slow.id, "COMPLETED"), state(retried.id, "FAILED"), state(permanent.id, "FAILED"), state(swept.id, "COMPLETED"), state(ghost.id, "COMPLETED")]);
    await eventually("the unknown type handed back", async () => (await mine.transitions(unknown.id)).some((t) => t.reason?.includes("handed back")), 30_000);
    await eventually("the early claim refused", async () => (await mine.get(early.id))?.dispatchedAt === null, 30_000);

    const held = await submit("sleep", { ms: 60_000 });
    await state(held.id, "RUNNING");
    const drained = await worker.drain(); // releases the long job
    expect(drained.released).toBeGreaterThanOrEqual(1);
    await queue.close();
    for (const id of [unknown.id, early.id, held.id]) {
      await testPool.query("update jobs set run_after = now() where id = $1::uuid", [id]);
      await eventually(`${id} cancelled`, async () => (await mine.cancel(id)).ok, 10_000);
    }

    const contract = new Set(Object.values(CONTRACT).map((s) => s.trim()));
    const undocumented = [...ran].filter((s) => !contract.has(s) && !BATCHED.has(s) && !["begin", "commit", "rollback"].includes(s));
    expect(undocumented).toEqual([]);
    // …and every documented SQL statement really ran, alone or batched (the Lua script goes to Redis).
    const unused = Object.entries(CONTRACT)
      .filter(([name, text]) => name !== "put-if-newer" && !ran.has(text.trim()) && !(BATCHED_FORM[name] !== undefined && ran.has(BATCHED_FORM[name])))
      .map(([name]) => name);
    expect(unused).toEqual([]);
  });
});

/**
 * No Postgres or Redis call waits forever (docs/health-probes.md, services/core/db.ts,
 * services/core/cache.ts). The api is wired as main.ts wires it, on a small pool of its own, a
 * throwaway Redis it can kill or freeze, and a throwaway Postgres for the frozen-server case:
 * - Redis killed or frozen (SIGSTOP: connected, never answering): reads fall back to Postgres and
 *   writes go on, because the client neither queues commands offline nor waits past its timeout;
 * - pool exhausted: a checkout gives up after connectionTimeoutMs and the api answers 503;
 * - a row lock held past statement_timeout: the statement is cancelled (57014, retryable → 503);
 * - Postgres frozen: the client gives up statement_timeout + 5 s later, then recovers.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../services/api/app.js";
import type { ApiDeps } from "../../services/api/deps.js";
import { createRedis, JobCache, waitForRedis } from "../../services/core/cache.js";
import { CLIENT_TIMEOUT_SLACK_MS, createPool } from "../../services/core/db.js";
import { isRetryableError } from "../../services/core/errors.js";
import { JobRepository } from "../../services/core/jobs/repository.js";
import { createMetrics } from "../../services/core/metrics.js";
import { JobQueue } from "../../services/core/queue.js";
import { readinessChecks } from "../../services/core/readiness.js";
import { createHandlerRegistry } from "../../services/handlers/index.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, eventually, testQueueName, type TestDatabase } from "../../harness/jobstack.js";
import { descendants } from "../support/procs.js";
import { startPostgres, startRedis, type Throwaway } from "../support/throwaway.js";

const POOL_SIZE = 2;
const CHECKOUT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 1_500;

let db: TestDatabase;
let redisServer: Throwaway;
let pool: pg.Pool;
let redis: ReturnType<typeof createRedis>;
let queue: JobQueue;
let app: ReturnType<typeof buildApp>;
let base: string;
// The operator's token: these tests also cancel, which the API token may not.
const token = "client-timeouts-token-0123456789";
const operatorToken = "client-timeouts-operator-0123456789";
const queueName = testQueueName();

beforeAll(async () => {
  [db, redisServer] = await Promise.all([createTestDatabase(), startRedis()]);
  pool = createPool({ databaseUrl: db.url, dbPoolSize: POOL_SIZE, connectionTimeoutMs: CHECKOUT_TIMEOUT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
  redis = createRedis(redisServer.url);
  await waitForRedis(redis, 10_000);
  queue = new JobQueue({ url: AMQP_URL, queue: queueName, queueType: "classic" });
  await queue.connect(10_000);
  const deps: ApiDeps = {
    repo: new JobRepository(pool),
    cache: new JobCache(redis, { prefix: `${queueName}:` }),
    queue,
    metrics: createMetrics({ defaultMetrics: false }),
    handlers: createHandlerRegistry(),
    readiness: readinessChecks(pool, redis, queue),
  };
  app = buildApp(deps, { apiToken: token, operatorToken });
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await queue?.close();
  redis?.disconnect();
  await pool?.end();
  await redisServer?.stop();
  await deleteQueueTopology(queueName).catch(() => undefined);
  await db?.drop();
});

async function call(p: string, init: RequestInit = {}): Promise<{ status: number; source: string | null; body: { id?: string; state?: string } }> {
  const res = await fetch(`${base}${p}`, {
    ...init,
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    signal: AbortSignal.timeout(30_000), // a hang fails the test instead of stalling it
  });
  return { status: res.status, source: res.headers.get("x-jobstack-source"), body: (await res.json()) as { id?: string; state?: string } };
}
const submit = () => call("/jobs", { method: "POST", body: JSON.stringify({ type: "noop" }) });

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // exited meanwhile
    }
  }
}

/** The throwaway Redis server's pid (its title is `redis-server 127.0.0.1:<port>`). */
function redisPids(): number[] {
  const out = execFileSync("pgrep", ["-f", `redis-server 127.0.0.1:${redisServer.port}`], { encoding: "utf8" });
  return out.split("\n").filter(Boolean).map(Number);
}

describe("Redis", () => {
  it("frozen (connected, never answering): reads come from Postgres, submissions go on", { timeout: 60_000 }, async () => {
    const { body: job } = await submit();
    expect((await call(`/jobs/${job.id}`)).source).toBe("cache");
    const pids = redisPids();
    signal(pids, "SIGSTOP");
    try {
      const read = await call(`/jobs/${job.id}`);
      expect(read.status).toBe(200);
      expect(read.source).not.toBe("cache");
      expect((await submit()).status).toBe(202);
    } finally {
      signal(pids, "SIGCONT");
    }
  });

  it("killed: reads come from Postgres, submissions go on; the cache is used again once it is back", { timeout: 60_000 }, async () => {
    const { body: job } = await submit();
    await redisServer.kill();
    const read = await call(`/jobs/${job.id}`);
    expect(read.status).toBe(200);
    expect(read.source).not.toBe("cache");
    expect((await submit()).status).toBe(202);
    await redisServer.restart!();
    await eventually("served from the cache again", async () => {
      await call(`/jobs/${job.id}`); // refills on a miss
      return (await call(`/jobs/${job.id}`)).source === "cache";
    }, 30_000);
  });
});

describe("Postgres pool", () => {
  it("exhausted: a checkout gives up after connectionTimeoutMs and the api answers 503, then recovers", { timeout: 60_000 }, async () => {
    const held = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
    try {
      const err = await pool.query("select 1").catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/timeout exceeded when trying to connect/);
      expect(isRetryableError(err)).toBe(true);
      const res = await submit();
      expect(res.status).toBe(503);
    } finally {
      for (const c of held) c.release();
    }
    expect((await submit()).status).toBe(202);
  });

  it("a row lock held past statement_timeout: the statement is cancelled (57014) and the api answers 503", { timeout: 60_000 }, async () => {
    const { body: job } = await submit();
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("select id from jobs where id = $1::uuid for update", [job.id]);
      const res = await call(`/jobs/${job.id}/cancel`, { method: "POST", body: "{}" });
      expect(res.status).toBe(503);
      const err = await new JobRepository(pool).cancel(job.id!).catch((e: unknown) => e as Error & { code?: string });
      expect((err as { code?: string }).code).toBe("57014");
      expect(isRetryableError(err)).toBe(true);
    } finally {
      await locker.query("rollback");
      await locker.end();
    }
    expect((await call(`/jobs/${job.id}/cancel`, { method: "POST", body: "{}" })).body.state).toBe("CANCELLED");
  });
});

describe("a frozen Postgres server", () => {
  let server: Throwaway;
  let frozenPool: pg.Pool;
  beforeAll(async () => {
    server = await startPostgres();
    frozenPool = createPool({ databaseUrl: server.url, dbPoolSize: 1, connectionTimeoutMs: CHECKOUT_TIMEOUT_MS, statementTimeoutMs: 500 });
  }, 120_000);
  afterAll(async () => {
    await frozenPool?.end().catch(() => undefined);
    await server?.stop();
  });

  it("is given up statement_timeout + slack later, and the pool recovers after it thaws", { timeout: 60_000 }, async () => {
    await frozenPool.query("select 1"); // an open, idle connection in the pool
    const postmaster = Number(readFileSync(path.join(server.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
    const pids = [postmaster, ...descendants(postmaster)];
    signal(pids, "SIGSTOP");
    try {
      const err = await frozenPool.query("select 1").catch((e: unknown) => e as Error);
      expect((err as Error).message).toMatch(/Query read timeout/);
      expect(isRetryableError(err)).toBe(true);
      expect(CLIENT_TIMEOUT_SLACK_MS).toBeGreaterThan(0);
    } finally {
      signal(pids, "SIGCONT");
    }
    await eventually("pool works again", async () => (await frozenPool.query("select 1 as one")).rows[0].one === 1, 30_000);
  });
});

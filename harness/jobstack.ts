/**
 * Helpers for running services/ on real servers, for the tests and for `npm run load`: a fresh
 * database per test file (migrated), unique queue names and their removal, worker child
 * processes, and checks that nothing is left behind.
 * Server addresses come from harness/servers.ts (the shared servers, or throwaways).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import pg from "pg";
import { migrate } from "../services/migrations/migrate.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Server addresses: one place for every test (harness/servers.ts).
export { AMQP_URL, PG_ADMIN_URL, REDIS_URL } from "./servers.js";
import { AMQP_URL, PG_ADMIN_URL, REDIS_URL } from "./servers.js";
export const RECORD_HANDLER_MODULE = path.join(ROOT, "harness/handlers/record.ts");

/** The record handler's table: one row per handler execution. */
export const HANDLER_RUNS_DDL =
  "create table handler_runs (id bigserial primary key, job_id uuid not null, claim bigint not null, worker_id text not null, at timestamptz not null default now())";

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Fails when anything still holds a connection to the database, then drops it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** CREATE DATABASE jobstack_test_<random>, migrated, plus the handler_runs table of the record handler. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `jobstack_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await admin(async (c) => {
    await c.query(`create database ${name}`);
    // Test databases are thrown away: skip the commit fsync wait, which dominates test run time.
    await c.query(`alter database ${name} set synchronous_commit = off`);
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  // Test-only: one row per handler execution, written by harness/handlers/record.ts.
  await c.query(HANDLER_RUNS_DDL);
  await c.end();
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin(async (a) => {
        // A backend outlives its client's goodbye by a moment (longer on a loaded machine), so a
        // connection counts as left open only if it is still there after two seconds.
        const open = async () =>
          (
            await a.query<{ n: number }>(
              "select count(*)::integer as n from pg_stat_activity where datname = $1::text and pid <> pg_backend_pid()",
              [name],
            )
          ).rows[0]!.n;
        let n = await open();
        for (let waited = 0; n > 0 && waited < 2_000; waited += 100) {
          await sleep(100);
          n = await open();
        }
        await a.query(`drop database ${name} with (force)`);
        if (n > 0) throw new Error(`${n} connection(s) to ${name} were left open`);
      });
    },
  };
}

export function testQueueName(): string {
  return `test-${randomUUID()}`;
}

/** Deletes a job queue with its dead-letter queue and exchange. */
export async function deleteQueueTopology(queue: string, url = AMQP_URL): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteQueue(`${queue}.dead`);
    await ch.deleteExchange(`${queue}.dlx`);
    await ch.close();
  } finally {
    await conn.close();
  }
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly output: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

const children = new Set<WorkerProcess>();

/** Spawns `node --import tsx services/worker/main.ts` (no npx wrapper: signals reach the worker itself). */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "services/worker/main.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      LOG_LEVEL: "warn",
      HEALTH_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  const w: WorkerProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    kill: (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  children.add(w);
  void exited.then(() => children.delete(w));
  return w;
}

/** SIGKILLs every worker still running and waits for them; returns how many there were. */
export async function killAllWorkers(): Promise<number> {
  const left = [...children];
  for (const w of left) w.kill("SIGKILL");
  await Promise.all(left.map((w) => w.exited));
  return left.length;
}

export function workerEnv(db: Pick<TestDatabase, "url">, queue: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: REDIS_URL,
    AMQP_URL: AMQP_URL,
    JOB_QUEUE: queue,
    LEASE_MS: "2000",
    REAPER_INTERVAL_MS: "200",
    SWEEPER_INTERVAL_MS: "200",
    SWEEP_AFTER_MS: "500",
    RETRY_BASE_MS: "50",
    RETRY_MAX_MS: "400",
    SHUTDOWN_TIMEOUT_MS: "5000",
    DB_POOL_SIZE: "5",
    JOB_HANDLER_MODULES: RECORD_HANDLER_MODULE,
    // Keys of test workers stay apart from anything else in the shared Redis and expire soon.
    CACHE_PREFIX: `test-${queue}:`,
    CACHE_TTL_SECONDS: "30",
    ...extra,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; throws with `what` after timeoutMs. */
export async function eventually<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(everyMs);
  }
}

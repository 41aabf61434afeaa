/**
 * One jobstack system for a chaos scenario: the real api process and N real worker processes on
 * the servers the scenario names (throwaway ones for whatever it kills, the shared ones for the
 * rest), a client that submits through HTTP and records every outcome in a `History`, and a
 * direct Postgres pool for the checker.
 *
 *   const c = await startCluster({ databaseUrl, redisUrl, amqpUrl, workers: 2 });
 *   await c.submitMany(500, 16);            // POST /jobs, each with its own idempotencyKey
 *   c.workers[0].kill("SIGKILL"); c.replaceWorker(0);
 *   const report = await c.settle();        // waits for every acknowledged job, then checks
 *   await c.stop();
 *
 * Every scenario runs the `record` handler (harness/handlers/record.ts): one row in
 * `handler_runs` per execution, which is how the checker sees duplicated runs.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { createPool } from "../services/core/db.js";
import { HANDLER_RUNS_DDL, PG_ADMIN_URL, RECORD_HANDLER_MODULE, sleep, type TestDatabase } from "./jobstack.js";
import { spareport } from "./ports.js";
import { checkHistory, waitForFinal, type CheckReport, type History, type Submission } from "./checker.js";
import { startService, tailOf, waitHealthy, waitWorkerStarted, type ServiceProcess } from "./services.js";

export interface ClusterOptions {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly amqpUrl: string;
  /** @default 2 */
  readonly workers?: number;
  /** @default a fresh test-<uuid> */
  readonly queue?: string;
  /** Extra environment of every worker (wins over the defaults below). */
  readonly workerEnv?: Record<string, string>;
  /** Extra environment of the api. */
  readonly apiEnv?: Record<string, string>;
}

/** Short timers, so that faults heal within a test's time; every value is a documented setting. */
const FAST_TIMERS: Record<string, string> = {
  LEASE_MS: "2000",
  REAPER_INTERVAL_MS: "250",
  SWEEPER_INTERVAL_MS: "250",
  SWEEP_AFTER_MS: "1000",
  RETRY_BASE_MS: "50",
  RETRY_MAX_MS: "500",
  SHUTDOWN_TIMEOUT_MS: "3000",
  DB_POOL_SIZE: "6",
  WORKER_CONCURRENCY: "8",
  CACHE_ACTIVE_TTL_SECONDS: "2",
  CACHE_TTL_SECONDS: "300",
};

export interface SubmitOptions {
  /** @default { type: "record", payload: {} } */
  readonly body?: (i: number) => Record<string, unknown>;
  /** Give up on one request after this long (it counts as indeterminate). @default 15000 */
  readonly timeoutMs?: number;
  /** Stop submitting when this returns true (checked before each request). */
  readonly until?: () => boolean;
  /** Pause of each lane after a refused request, so an outage is not a flood. @default 0 */
  readonly pauseAfterRefusalMs?: number;
}

export class Cluster {
  readonly token = `chaos-${randomUUID()}`;
  readonly history: History = { submissions: [] };
  readonly workers: ServiceProcess[] = [];
  /** Every worker process ever started, killed ones included (their logs stay readable). */
  readonly allWorkers: ServiceProcess[] = [];
  api!: ServiceProcess;
  apiUrl = "";
  readonly pool: pg.Pool;
  readonly queue: string;
  private seq = 0;
  private workerSeq = 0;

  constructor(readonly options: ClusterOptions) {
    this.queue = options.queue ?? `test-${randomUUID()}`;
    this.pool = createPool({ databaseUrl: options.databaseUrl, dbPoolSize: 4 });
  }

  commonEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.options.databaseUrl,
      REDIS_URL: this.options.redisUrl,
      AMQP_URL: this.options.amqpUrl,
      JOB_QUEUE: this.queue,
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      JOB_HANDLER_MODULES: RECORD_HANDLER_MODULE,
      CACHE_PREFIX: `test-${this.queue}:`,
      ...FAST_TIMERS,
    };
  }

  async startApi(): Promise<void> {
    const port = await spareport();
    this.api = startService("api", { ...this.commonEnv(), API_TOKEN: this.token, PORT: String(port), ...this.options.apiEnv });
    this.apiUrl = `http://127.0.0.1:${port}`;
    await waitHealthy(this.api, port);
  }

  /** Starts one worker (WORKER_ID chaos-worker-<n>) and waits until it consumes. */
  async startWorker(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const w = startService("worker", {
      ...this.commonEnv(),
      HEALTH_PORT: "0",
      WORKER_ID: `chaos-worker-${++this.workerSeq}`,
      ...this.options.workerEnv,
      ...extra,
    });
    this.workers.push(w);
    this.allWorkers.push(w);
    await waitWorkerStarted(w);
    return w;
  }

  /** SIGKILLs worker `i` and starts a fresh one in its place (not waiting for it to consume). */
  replaceWorker(i: number): ServiceProcess {
    this.workers[i]!.kill("SIGKILL");
    const w = startService("worker", {
      ...this.commonEnv(),
      HEALTH_PORT: "0",
      WORKER_ID: `chaos-worker-${++this.workerSeq}`,
      ...this.options.workerEnv,
    });
    this.workers[i] = w;
    this.allWorkers.push(w);
    return w;
  }

  /** POST /jobs once; the outcome goes into the history whatever it is. */
  async submit(body: Record<string, unknown> = { type: "record", payload: {} }, timeoutMs = 15_000): Promise<Submission> {
    const key = `${this.queue}-${++this.seq}`;
    const s: Submission = { key, startedAt: Date.now(), endedAt: 0, outcome: "info", status: null, id: null };
    this.history.submissions.push(s);
    try {
      const r = await fetch(`${this.apiUrl}/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: JSON.stringify({ maxAttempts: 100, ...body, idempotencyKey: key }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      s.status = r.status;
      const json = (await r.json().catch(() => null)) as { id?: string } | null;
      if (r.status >= 200 && r.status < 300 && json?.id) {
        s.outcome = "ok";
        s.id = json.id;
      } else {
        // A 4xx/5xx answer is a definite refusal by the api; whether the job was stored anyway
        // is what the checker looks at ("unexpected" when it was and the api said no).
        s.outcome = "fail";
      }
    } catch {
      s.outcome = "info"; // timed out or dropped: may or may not have been stored
    }
    s.endedAt = Date.now();
    return s;
  }

  /** Submits `n` jobs with `concurrency` requests in flight. */
  async submitMany(n: number, concurrency: number, options: SubmitOptions = {}): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < n && !options.until?.()) {
        const i = next++;
        const s = await this.submit(options.body?.(i) ?? { type: "record", payload: {} }, options.timeoutMs);
        if (s.outcome !== "ok" && options.pauseAfterRefusalMs) await sleep(options.pauseAfterRefusalMs);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  /** GET /jobs/:id through the api. */
  async status(id: string): Promise<{ status: number; body: Record<string, unknown> | null; source: string | null }> {
    const r = await fetch(`${this.apiUrl}/jobs/${id}`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null, source: r.headers.get("x-jobstack-source") };
  }

  acknowledgedIds(): string[] {
    return this.history.submissions.filter((s) => s.outcome === "ok").map((s) => s.id!);
  }

  /**
   * Waits until every acknowledged job is final (or `timeoutMs` passes), then runs the checker.
   * `recoverMs` is how long that wait took, counted from `since` (the end of the last fault).
   */
  async settle(timeoutMs = 120_000, since = Date.now()): Promise<CheckReport & { recoverMs: number }> {
    await waitForFinal(this.pool, this.acknowledgedIds(), timeoutMs);
    const recoverMs = Date.now() - since;
    const report = await checkHistory(this.pool, this.history);
    return { ...report, recoverMs };
  }

  /** The last lines of every api or worker process that is no longer running (empty when all are). */
  dead(): string[] {
    return [this.api, ...this.allWorkers].filter((p) => p !== undefined && !p.running()).map((p) => tailOf(p, 60));
  }

  /** Output of every process, for an assertion message. */
  tails(n = 30): string {
    return [this.api, ...this.allWorkers.filter((w) => w.running() || w === this.allWorkers.at(-1))]
      .filter((p): p is ServiceProcess => p !== undefined)
      .map((p) => tailOf(p, n))
      .join("\n");
  }

  /** SIGKILLs everything still running and closes the pool. Safe to call twice. */
  async stop(): Promise<void> {
    const all = [this.api, ...this.allWorkers].filter((p): p is ServiceProcess => p !== undefined);
    for (const p of all) p.kill("SIGKILL");
    await Promise.all(all.map((p) => p.exited));
    await this.pool.end().catch(() => undefined);
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const c = new Cluster(options);
  await c.startApi();
  for (let i = 0; i < (options.workers ?? 2); i++) await c.startWorker();
  return c;
}

/** Creates `handler_runs` (the record handler's table) in a database migrated elsewhere. */
export async function addHandlerRuns(databaseUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(HANDLER_RUNS_DDL);
  } finally {
    await c.end();
  }
}

export { sleep };

/**
 * Drops a test database once the connections of the processes a scenario killed are gone (the
 * server notices a SIGKILLed client a moment later), so the fixture's leak check stays strict.
 */
export async function dropWhenIdle(db: TestDatabase, timeoutMs = 15_000): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await admin.query<{ n: number }>("select count(*)::integer as n from pg_stat_activity where datname = $1::text", [db.name]);
      if (rows[0]!.n === 0 || Date.now() > deadline) break;
      await sleep(100);
    }
  } finally {
    await admin.end();
  }
  await db.drop();
}

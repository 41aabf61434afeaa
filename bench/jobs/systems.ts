/**
 * The three job systems under test, behind one interface, each with its own throwaway state:
 *
 *   jobstack         services/api/main.ts + 2 × services/worker/main.ts, real processes, configured
 *                    only by environment variables (services/core/config.ts). Postgres (own database),
 *                    RabbitMQ (own quorum queue, publisher confirms), Redis cache (bench DB index).
 *                    Enqueued either over HTTP (`POST /jobs` with the bearer token: the honest path;
 *                    keep-alive connections from undici's Pool) or "direct": the API's own code path
 *                    in this process (repo.submit, then cache.put and dispatchJob), which leaves out
 *                    HTTP and the API process. Bulk: `POST /jobs/batch`, or repo.submitBatch.
 *   bullmq           2 × bench/jobs/bullmq-worker.ts; Queue.add per job, Queue.addBulk in bulk;
 *                    Redis (bench DB index, own key prefix); completed jobs kept (BullMQ's default).
 *   graphile-worker  2 × bench/jobs/graphile-worker.ts; WorkerUtils.addJob per job, addJobs in
 *                    bulk; Postgres (own database); the throughput settings of graphile's
 *                    performance page (local queue of 500, batched completions; see that file).
 *
 * Completion is read from each system's own store: jobstack's `jobs` table, BullMQ's job counts,
 * graphile's job table (it deletes a job when it succeeds).
 */
import { randomBytes, randomUUID } from "node:crypto";
import amqp from "amqplib";
import { Queue } from "bullmq";
import { makeWorkerUtils, runMigrations, type WorkerUtils } from "graphile-worker";
import { Redis } from "ioredis";
import pg from "pg";
import { loadServiceConfig } from "../../services/core/config.js";
import { openDependencies, type Dependencies } from "../../services/core/dependencies.js";
import { dispatchJob } from "../../services/core/dispatch.js";
import { migrate } from "../../services/migrations/migrate.js";
import { listenerPid, type CpuAttribution } from "../lib/cpu.js";
import { pooled } from "../lib/pool.js";
import { Pool as HttpPool } from "undici";
import { AMQP_PORT, AMQP_URL, freePort, PG_ADMIN_URL, REDIS_DB, REDIS_HOST, REDIS_PORT, spawnTsx, waitFor, type Child } from "../lib/env.js";

export interface JobSpec {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

export interface Progress {
  readonly done: number;
  readonly failed: number;
}

export interface JobSystem {
  readonly name: string;
  /** Creates the system's state and starts its processes; resolves once every worker is consuming. */
  setup(): Promise<void>;
  /** Short name of the summary line (`jobstack-http`, `bullmq`, …). */
  readonly key: string;
  /** Enqueues `count` jobs with at most `inFlight` enqueue calls outstanding; resolves when every one is acknowledged. */
  enqueue(job: JobSpec, count: number, inFlight: number): Promise<void>;
  /**
   * Enqueues `count` jobs in calls of `batchSize` jobs each (the system's bulk call: POST
   * /jobs/batch, addBulk, addJobs), at most `inFlight` calls outstanding.
   */
  enqueueBatch(job: JobSpec, count: number, batchSize: number, inFlight: number): Promise<void>;
  /** Jobs finished since the last reset. */
  progress(): Promise<Progress>;
  /** Forgets finished jobs (between runs, with the workers idle). */
  reset(): Promise<void>;
  /** Stops the processes and removes every database, queue and key it created. Safe to call twice. */
  teardown(): Promise<void>;
  /** Which processes' CPU time belongs to this system (after setup). */
  cpuAttribution(): CpuAttribution;
}

/** The shared servers a system uses, as whole processes, plus this process (the client). */
function sharedPids(servers: { rabbitmq?: boolean; redis?: boolean }): Record<string, number[]> {
  const out: Record<string, number[]> = { "bench client": [process.pid] };
  const pidOf = (port: number) => {
    const pid = listenerPid(port);
    return pid === null ? [] : [pid];
  };
  if (servers.rabbitmq) out["rabbitmq (whole server)"] = pidOf(AMQP_PORT);
  if (servers.redis) out["redis (whole server)"] = pidOf(REDIS_PORT);
  return out;
}

const pidsOf = (children: readonly (Child | null)[]) => children.flatMap((c) => (c?.process.pid === undefined ? [] : [c.process.pid]));

const runId = () => randomBytes(5).toString("hex");

/**
 * A pg client that survives its database being dropped under it (teardown drops databases
 * `with (force)`, which terminates every connection): without an 'error' listener, the
 * terminated connection's error event would end the benchmark with exit 1.
 */
function survivingClient(connectionString: string): pg.Client {
  const c = new pg.Client({ connectionString });
  c.on("error", () => undefined);
  return c;
}

/** Splits `count` into calls of at most `size`: the sizes of each bulk call. */
const chunks = (count: number, size: number) => Array.from({ length: Math.ceil(count / size) }, (_, i) => Math.min(size, count - i * size));

async function adminQuery(sql: string): Promise<void> {
  const c = survivingClient(PG_ADMIN_URL);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function createDatabase(name: string): Promise<string> {
  await adminQuery(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const dropDatabase = (name: string) => adminQuery(`drop database if exists ${name} with (force)`);

/** Deletes every key matching `pattern` in the bench's Redis DB. */
async function deleteRedisKeys(pattern: string): Promise<number> {
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, db: REDIS_DB, lazyConnect: true });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [nextCursor, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = nextCursor;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return deleted;
}

async function waitReady(child: Child, timeoutMs: number): Promise<void> {
  await waitFor(`${child.name} to print READY`, () => {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited early:\n${child.output()}`);
    return child.output().includes("READY");
  }, timeoutMs, 100);
}

export interface SystemOptions {
  readonly workers: number;
  readonly concurrency: number;
  readonly startTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------

export type JobstackEnqueue = "http" | "direct";

/**
 * One jobstack deployment (api + workers) shared by both enqueue paths: `view("http")` and
 * `view("direct")` are two JobSystems over the same processes and database.
 */
export class Jobstack {
  private readonly id = runId();
  readonly database = `jobstack_bench_js_${this.id}`;
  readonly queue = `jobstack-bench-${this.id}`;
  private readonly token = randomUUID();
  private url = "";
  private port = 0;
  private api: Child | null = null;
  private workers: Child[] = [];
  private admin: pg.Client | null = null;
  private http: HttpPool | null = null;
  private deps: Dependencies | null = null;
  private started: Promise<void> | null = null;
  private tornDown: Promise<void> | null = null;

  /**
   * `asyncCommit` runs this deployment's database with `synchronous_commit = off` (an
   * experiment, off by default: it shows how much of jobstack's cost is waiting for WAL
   * flushes; a crash could then lose the last acknowledged jobs, which jobstack promises not to).
   */
  constructor(
    private readonly options: SystemOptions & {
      readonly asyncCommit?: boolean;
      /**
       * Retention of every final state in seconds, with a pass every second, so the workers
       * delete jobs while the run goes on (docs/storage.md). Unset: the services' defaults
       * (days), so the pass runs but finds nothing to delete.
       */
      readonly retentionSeconds?: number;
      /** WORKER_PREFETCH of the workers; unset: the services' default (4 × concurrency, claim ahead). */
      readonly workerPrefetch?: number;
    },
  ) {}

  private get label(): string {
    return (
      (this.options.asyncCommit ? ", synchronous_commit=off" : "") +
      (this.options.retentionSeconds !== undefined ? `, retention ${this.options.retentionSeconds} s` : "") +
      (this.options.workerPrefetch !== undefined ? `, prefetch ${this.options.workerPrefetch}` : "")
    );
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return {
      DATABASE_URL: this.url,
      REDIS_URL: `redis://${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}`,
      AMQP_URL,
      JOB_QUEUE: this.queue,
      WORKER_CONCURRENCY: String(this.options.concurrency),
      LOG_LEVEL: "warn",
      ...(this.options.workerPrefetch !== undefined && { WORKER_PREFETCH: String(this.options.workerPrefetch) }),
      ...(this.options.retentionSeconds !== undefined && {
        RETENTION_COMPLETED_SECONDS: String(this.options.retentionSeconds),
        RETENTION_FAILED_SECONDS: String(this.options.retentionSeconds),
        RETENTION_CANCELLED_SECONDS: String(this.options.retentionSeconds),
        RETENTION_INTERVAL_MS: "1000",
      }),
      ...extra,
    };
  }

  setup(): Promise<void> {
    return (this.started ??= (async () => {
      this.url = await createDatabase(this.database);
      if (this.options.asyncCommit) await adminQuery(`alter database ${this.database} set synchronous_commit = off`);
      await migrate(this.url);
      this.admin = survivingClient(this.url);
      await this.admin.connect();
      this.port = await freePort();
      this.api = spawnTsx("jobstack api", "services/api/main.ts", [], this.env({ PORT: String(this.port), API_TOKEN: this.token }));
      for (let i = 1; i <= this.options.workers; i++) {
        this.workers.push(spawnTsx(`jobstack worker ${i}`, "services/worker/main.ts", [], this.env({ HEALTH_PORT: "0", WORKER_ID: `bench-worker-${i}` })));
      }
      const timeout = this.options.startTimeoutMs ?? 90_000;
      const base = `http://127.0.0.1:${this.port}`;
      await waitFor("the jobstack api to be ready", async () => {
        if (this.api!.process.exitCode !== null) throw new Error(`jobstack api exited early:\n${this.api!.output()}`);
        try {
          return (await fetch(`${base}/readyz`)).ok;
        } catch {
          return false;
        }
      }, timeout, 200);
      // A worker is ready when it consumes: wait for one consumer per worker process on the queue.
      const conn = await amqp.connect(AMQP_URL);
      try {
        const ch = await conn.createChannel();
        await waitFor("every jobstack worker to consume", async () => {
          for (const w of this.workers) if (w.process.exitCode !== null) throw new Error(`${w.name} exited early:\n${w.output()}`);
          const q = await ch.checkQueue(this.queue).catch(() => null);
          return q !== null && q.consumerCount >= this.options.workers;
        }, timeout, 200);
        await ch.close();
      } finally {
        await conn.close();
      }
      this.http = new HttpPool(base, { connections: 256, keepAliveTimeout: 60_000 });
      // The "direct" path: the API's own dependencies, opened in this process.
      this.deps = await openDependencies(loadServiceConfig("api", this.env({ API_TOKEN: this.token })));
    })());
  }

  /**
   * SIGSTOP / SIGCONT to every worker process: a probe pauses them to build a backlog, then lets
   * them drain it at full speed (bench/probe-http.ts). A pause of seconds stays far inside the
   * AMQP heartbeat and the leases.
   */
  signalWorkers(signal: "SIGSTOP" | "SIGCONT"): void {
    for (const w of this.workers) w.process.kill(signal);
  }

  /** Jobs of this deployment by state (probes). */
  async countByState(): Promise<Record<string, number>> {
    const { rows } = await this.admin!.query<{ state: string; n: number }>("select state, count(*)::integer as n from jobs group by state");
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  view(mode: JobstackEnqueue): JobSystem {
    const headers = () => ({ authorization: `Bearer ${this.token}`, "content-type": "application/json" });
    // Keep-alive connections from a pool (undici's Pool, as autocannon-style clients do): one
    // TCP connection per request in flight, reused, so the client measures the api, not its own
    // connection set-up.
    const post = async (path: string, body: string) => {
      const res = await this.http!.request({ method: "POST", path, headers: headers(), body });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`POST ${path} answered ${res.statusCode}: ${text}`);
    };
    const enqueueHttp = async (job: JobSpec, count: number, inFlight: number) => {
      const body = JSON.stringify({ type: job.type, payload: job.payload });
      await pooled(count, inFlight, () => post("/jobs", body));
    };
    const enqueueHttpBatch = async (job: JobSpec, count: number, batchSize: number, inFlight: number) => {
      const sizes = chunks(count, batchSize);
      await pooled(sizes.length, inFlight, (i) =>
        post("/jobs/batch", JSON.stringify({ jobs: Array.from({ length: sizes[i]! }, () => ({ type: job.type, payload: job.payload })) })),
      );
    };
    // Exactly what POST /jobs does after validation (services/api/routes/jobs.ts): commit, then
    // the cache write and the confirmed publish side by side.
    const enqueueDirect = async (job: JobSpec, count: number, inFlight: number) => {
      const { repo, cache, queue } = this.deps!;
      await pooled(count, inFlight, async () => {
        const { job: created } = await repo.submit({ type: job.type, payload: job.payload });
        const [, outcome] = await Promise.all([cache.put(created), dispatchJob(queue, repo, created)]);
        if (!outcome.dispatched) throw new Error(`dispatch failed: ${outcome.error?.message}`);
      });
    };
    // What POST /jobs/batch does after validation: one transaction for the batch, then every
    // job's cache write and publish.
    const enqueueDirectBatch = async (job: JobSpec, count: number, batchSize: number, inFlight: number) => {
      const { repo, cache, queue } = this.deps!;
      const sizes = chunks(count, batchSize);
      await pooled(sizes.length, inFlight, async (i) => {
        const submitted = await repo.submitBatch(Array.from({ length: sizes[i]! }, () => ({ type: job.type, payload: job.payload })));
        if (!submitted.ok) throw new Error(`submitBatch refused: ${submitted.conflicts.length} conflicts`);
        const jobs = submitted.results.map((r) => r.job);
        const [, outcomes] = await Promise.all([cache.putMany(jobs), Promise.all(jobs.map((j) => dispatchJob(queue, repo, j)))]);
        const failed = outcomes.find((o) => !o.dispatched);
        if (failed) throw new Error(`dispatch failed: ${failed.error?.message}`);
      });
    };
    return {
      name: mode === "http" ? `jobstack (HTTP API${this.label})` : `jobstack (direct${this.label})`,
      key: `jobstack-${mode}${this.options.asyncCommit ? "-async-commit" : ""}${this.options.retentionSeconds !== undefined ? "-retention" : ""}${this.options.workerPrefetch !== undefined ? `-prefetch-${this.options.workerPrefetch}` : ""}`,
      setup: () => this.setup(),
      enqueue: mode === "http" ? enqueueHttp : enqueueDirect,
      enqueueBatch: mode === "http" ? enqueueHttpBatch : enqueueDirectBatch,
      progress: async () => {
        // With retention running, finished jobs leave `jobs` during the run; their audit rows
        // stay (partitions are dropped by the day), so count the final transitions instead.
        const sql =
          this.options.retentionSeconds !== undefined
            ? "select count(*) filter (where to_state = 'COMPLETED')::integer as done, count(*) filter (where to_state = 'FAILED')::integer as failed from job_transitions where to_state in ('COMPLETED', 'FAILED')"
            : "select count(*) filter (where state = 'COMPLETED')::integer as done, count(*) filter (where state = 'FAILED')::integer as failed from jobs";
        const { rows } = await this.admin!.query<{ done: number; failed: number }>(sql);
        return rows[0]!;
      },
      reset: async () => {
        await this.admin!.query("truncate jobs, job_transitions");
      },
      teardown: () => this.teardown(),
      cpuAttribution: () => ({
        pids: { workers: pidsOf(this.workers), api: pidsOf([this.api]), ...sharedPids({ rabbitmq: true, redis: true }) },
        database: this.database,
      }),
    };
  }

  teardown(): Promise<void> {
    return (this.tornDown ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      };
      await attempt(async () => this.http?.close());
      await attempt(async () => this.deps?.close());
      await attempt(() => Promise.all([this.api, ...this.workers].map((c) => c?.stop())));
      await attempt(async () => this.admin?.end());
      await attempt(() => dropDatabase(this.database));
      await attempt(async () => {
        const conn = await amqp.connect(AMQP_URL);
        try {
          const ch = await conn.createChannel();
          await ch.deleteQueue(this.queue);
          await ch.deleteQueue(`${this.queue}.dead`);
          await ch.deleteExchange(`${this.queue}.dlx`);
          await ch.close();
        } finally {
          await conn.close();
        }
      });
      // The worker's write-through cache: keys `jobstack:job:<uuid>` in the bench's DB index.
      await attempt(() => deleteRedisKeys("jobstack:job:*"));
      if (errors.length > 0) throw new AggregateError(errors, "jobstack teardown failed");
    })());
  }
}

// ---------------------------------------------------------------------------------------------

export class BullmqSystem implements JobSystem {
  readonly name = "BullMQ";
  readonly key = "bullmq";
  private readonly id = runId();
  private readonly queueName = "bench";
  private readonly prefix = `jobstack_bench_bull_${this.id}`;
  private queue: Queue | null = null;
  private workers: Child[] = [];
  private tornDown: Promise<void> | null = null;

  constructor(private readonly options: SystemOptions) {}

  async setup(): Promise<void> {
    this.queue = new Queue(this.queueName, {
      connection: { host: REDIS_HOST, port: REDIS_PORT, db: REDIS_DB },
      prefix: this.prefix,
    });
    // Survive its own teardown (obliterate, close) and a blip of the shared Redis.
    this.queue.on("error", () => undefined);
    await this.queue.waitUntilReady();
    for (let i = 1; i <= this.options.workers; i++) {
      this.workers.push(
        spawnTsx(`bullmq worker ${i}`, "bench/jobs/bullmq-worker.ts", [], {
          BENCH_QUEUE: this.queueName,
          BENCH_PREFIX: this.prefix,
          BENCH_REDIS_DB: String(REDIS_DB),
          BENCH_CONCURRENCY: String(this.options.concurrency),
        }),
      );
    }
    await Promise.all(this.workers.map((w) => waitReady(w, this.options.startTimeoutMs ?? 90_000)));
  }

  async enqueue(job: JobSpec, count: number, inFlight: number): Promise<void> {
    const q = this.queue!;
    await pooled(count, inFlight, async () => {
      await q.add(job.type, job.payload);
    });
  }

  /** BullMQ's bulk call: `addBulk` (one Redis MULTI per call). */
  async enqueueBatch(job: JobSpec, count: number, batchSize: number, inFlight: number): Promise<void> {
    const q = this.queue!;
    const sizes = chunks(count, batchSize);
    await pooled(sizes.length, inFlight, async (i) => {
      await q.addBulk(Array.from({ length: sizes[i]! }, () => ({ name: job.type, data: job.payload })));
    });
  }

  cpuAttribution(): CpuAttribution {
    return { pids: { workers: pidsOf(this.workers), ...sharedPids({ redis: true }) } };
  }

  async progress(): Promise<Progress> {
    const c = await this.queue!.getJobCounts("completed", "failed");
    return { done: c.completed ?? 0, failed: c.failed ?? 0 };
  }

  async reset(): Promise<void> {
    const q = this.queue!;
    for (const state of ["completed", "failed"] as const) {
      // clean() removes at most `limit` jobs per call.
      while ((await q.clean(0, 10_000, state)).length > 0);
    }
  }

  teardown(): Promise<void> {
    return (this.tornDown ??= (async () => {
      const errors: unknown[] = [];
      await Promise.all(this.workers.map((w) => w.stop())).catch((e: unknown) => errors.push(e));
      if (this.queue) {
        await this.queue.obliterate({ force: true }).catch((e: unknown) => errors.push(e));
        await this.queue.close().catch((e: unknown) => errors.push(e));
      }
      await deleteRedisKeys(`${this.prefix}:*`).catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw new AggregateError(errors, "bullmq teardown failed");
    })());
  }
}

// ---------------------------------------------------------------------------------------------

export class GraphileSystem implements JobSystem {
  readonly name = "graphile-worker";
  readonly key = "graphile-worker";
  private readonly database = `jobstack_bench_gw_${runId()}`;
  private url = "";
  private utils: WorkerUtils | null = null;
  /** The pool WorkerUtils uses: ours, so it has an 'error' listener when teardown drops its database. */
  private pool: pg.Pool | null = null;
  private admin: pg.Client | null = null;
  private workers: Child[] = [];
  private tornDown: Promise<void> | null = null;

  constructor(private readonly options: SystemOptions) {}

  async setup(): Promise<void> {
    this.url = await createDatabase(this.database);
    await runMigrations({ connectionString: this.url });
    this.pool = new pg.Pool({ connectionString: this.url, max: 10 });
    this.pool.on("error", () => undefined);
    // graphile asks for a handler on every client too (err.red/wpeh): an idle client's error.
    this.pool.on("connect", (client) => client.on("error", () => undefined));
    this.utils = await makeWorkerUtils({ pgPool: this.pool });
    this.admin = survivingClient(this.url);
    await this.admin.connect();
    for (let i = 1; i <= this.options.workers; i++) {
      this.workers.push(
        spawnTsx(`graphile worker ${i}`, "bench/jobs/graphile-worker.ts", [], {
          BENCH_DATABASE_URL: this.url,
          BENCH_CONCURRENCY: String(this.options.concurrency),
        }),
      );
    }
    await Promise.all(this.workers.map((w) => waitReady(w, this.options.startTimeoutMs ?? 90_000)));
  }

  async enqueue(job: JobSpec, count: number, inFlight: number): Promise<void> {
    const utils = this.utils!;
    await pooled(count, inFlight, async () => {
      await utils.addJob(job.type, job.payload);
      this.enqueuedSinceReset++;
    });
  }

  /** graphile's bulk call: `addJobs` (one statement per call). */
  async enqueueBatch(job: JobSpec, count: number, batchSize: number, inFlight: number): Promise<void> {
    const utils = this.utils!;
    const sizes = chunks(count, batchSize);
    await pooled(sizes.length, inFlight, async (i) => {
      await utils.addJobs(Array.from({ length: sizes[i]! }, () => ({ identifier: job.type, payload: job.payload })));
      this.enqueuedSinceReset += sizes[i]!;
    });
  }

  cpuAttribution(): CpuAttribution {
    return { pids: { workers: pidsOf(this.workers), ...sharedPids({}) }, database: this.database };
  }

  /** Jobs whose addJob resolved since the last reset. */
  private enqueuedSinceReset = 0;

  /**
   * graphile deletes a job when it succeeds and keeps one whose attempts are used up, so
   * done = acknowledged enqueues − rows still in the table (never an over-count: a job is in
   * the table before its addJob resolves).
   */
  async progress(): Promise<Progress> {
    const { rows } = await this.admin!.query<{ left: number; failed: number }>(
      "select count(*)::integer as left, count(*) filter (where attempts >= max_attempts and locked_at is null)::integer as failed from graphile_worker._private_jobs",
    );
    const r = rows[0]!;
    return { done: this.enqueuedSinceReset - r.left, failed: r.failed };
  }

  async reset(): Promise<void> {
    await this.admin!.query("delete from graphile_worker._private_jobs");
    this.enqueuedSinceReset = 0;
  }

  teardown(): Promise<void> {
    return (this.tornDown ??= (async () => {
      const errors: unknown[] = [];
      await Promise.all(this.workers.map((w) => w.stop())).catch((e: unknown) => errors.push(e));
      await Promise.resolve()
        .then(() => this.utils?.release())
        .catch((e: unknown) => errors.push(e));
      await this.pool?.end().catch((e: unknown) => errors.push(e));
      await this.admin?.end().catch((e: unknown) => errors.push(e));
      await dropDatabase(this.database).catch((e: unknown) => errors.push(e));
      if (errors.length > 0) throw new AggregateError(errors, "graphile teardown failed");
    })());
  }
}

// The environment contract between the stacks (the producer: stacks/config/service-env.ts and
// the targets) and the services (the consumer: config.ts). One zod schema keyed by the variable
// names: each variable's documentation, type, range and default are written here once. The
// loader parses with it, the producer's keys are typed by it (a misspelt name fails tsc), and
// the stacks take the defaults they repeat from it. test/services/env-contract.test.ts feeds
// every synthesized environment's api and worker variables through it.

import os from "node:os";
import { z } from "zod";
import { AmqpUrlError, parseAmqpUrls } from "./amqp-endpoints.js";
import { DEFAULT_DEAD_LETTER_MAX_LENGTH, DEFAULT_QUEUE_MAX_LENGTH } from "./queue-topology.js";

/** The processes that read the contract; each requires a different subset (config.ts). */
export type ServiceRole = "api" | "worker" | "migrate";

/** The largest WORKER_PREFETCH, and the cap of its default (4 × WORKER_CONCURRENCY). */
export const WORKER_PREFETCH_MAX = 10_000;

const int = (min: number, max: number, dflt: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })
    .default(dflt);

// URL checks say what is wrong without repeating the value: it may carry a password.
const url = (protocols: readonly string[]) =>
  z
    .string({ error: "is required" })
    .min(1, { error: "is required" })
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a URL with scheme ${protocols.map((p) => p.replace(":", "://")).join(" or ")}` },
    );

const token = () => z.string().min(16, { error: "must be at least 16 characters" });

const RETENTION_MAX_SECONDS = 100 * 365 * 86_400;

/**
 * Every variable the services read. An unset variable (or one set to "") takes the default;
 * "" stands for "unset" where a variable has no default value of its own. Which roles require
 * REDIS_URL, AMQP_URL and API_TOKEN is decided by config.ts.
 */
export const serviceEnvSchema = z.object({
  /** postgres://… ; required by every role. */
  DATABASE_URL: url(["postgres:", "postgresql:"]),
  /** redis://… or rediss://… ; api and worker. */
  REDIS_URL: url(["redis:", "rediss:"]).default(""),
  /** amqp://… , or a comma-separated list of cluster nodes (amqp-endpoints.ts); api and worker. */
  AMQP_URL: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseAmqpUrls(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof AmqpUrlError ? err.message : "is not a valid AMQP URL list" });
      }
    })
    .default(""),
  /** The api's HTTP port. */
  PORT: int(0, 65535, 8080),
  /**
   * The address the api and the worker's health server listen on. 0.0.0.0 because in a
   * container the probes come from outside the loopback; `jobstack local` sets 127.0.0.1.
   */
  HOST: z.string().min(1).default("0.0.0.0"),
  /** The worker's /healthz (and /metrics) port. */
  HEALTH_PORT: int(0, 65535, 8081),
  /** Bearer token to submit and read jobs (docs/api-access.md); api only, required there. */
  API_TOKEN: token().default(""),
  /**
   * Bearer token that may also retry and cancel, single and bulk; must differ from API_TOKEN.
   * api only, optional: unset, no one may retry or cancel (403).
   */
  OPERATOR_TOKEN: token().default(""),
  /**
   * http(s)://user:pass@host:15672 of RabbitMQ's management plugin; api only, optional. When set,
   * GET /jobs/stats and /metrics also report unacknowledged messages, which AMQP itself cannot
   * (docs/metrics.md). The stacks set it for a bundled RabbitMQ.
   */
  RABBITMQ_MANAGEMENT_URL: url(["http:", "https:"]).default(""),
  /** The RabbitMQ queue name. */
  JOB_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, { error: "must be 1-200 characters of A-Z a-z 0-9 _ . : -" })
    .default("jobs"),
  /** quorum | classic. */
  QUEUE_TYPE: z.enum(["quorum", "classic"], { error: "must be quorum or classic" }).default("quorum"),
  /** Handlers running at once per worker. */
  WORKER_CONCURRENCY: int(1, 1000, 8),
  /**
   * Messages per worker (the consumer's prefetch). Above WORKER_CONCURRENCY, jobs are claimed
   * ahead of the handlers and wait for a slot with their lease renewed
   * (services/worker/worker.ts). 0 = 4 × WORKER_CONCURRENCY (claim ahead, at most
   * WORKER_PREFETCH_MAX); 1 to WORKER_CONCURRENCY means WORKER_CONCURRENCY: no claim ahead.
   * Resolved by consumerPrefetch (config.ts).
   */
  WORKER_PREFETCH: int(0, WORKER_PREFETCH_MAX, 0),
  /** The worker's lease on a job, renewed every third of it. */
  LEASE_MS: int(200, 3_600_000, 30_000),
  /** The pino level. */
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "must be one of fatal error warn info debug trace silent",
    })
    .default("info"),
  /**
   * The pg pool size. Transitions that arrive together share a statement (batch.ts), so the
   * pool need not follow concurrency; keep at least 6 for a worker (two batched claims and
   * completions in flight, renewals, maintenance). The presets size it per service.
   */
  DB_POOL_SIZE: int(1, 1000, 10),
  /** Recorded in the audit log; <hostname>-<pid> when unset. */
  WORKER_ID: z
    .string()
    .min(1)
    .max(200)
    .default(() => `${os.hostname()}-${process.pid}`),
  /** How often expired leases are reaped. */
  REAPER_INTERVAL_MS: int(50, 3_600_000, 5_000),
  /** How often unconfirmed dispatches are swept. */
  SWEEPER_INTERVAL_MS: int(50, 3_600_000, 5_000),
  /** A PENDING job is swept once it has been due and undispatched this long, so the sweeper does not race the api's own publish. */
  SWEEP_AFTER_MS: int(0, 86_400_000, 10_000),
  /**
   * Re-send a PENDING job whose confirmed message was never claimed after this long (the broker
   * lost it); duplicates are dropped by the claim. Keep it above the longest expected queue
   * wait; 0 = never.
   */
  REDISPATCH_AFTER_MS: int(0, 7 * 86_400_000, 900_000),
  /** First retry delay; doubles per attempt, with jitter. */
  RETRY_BASE_MS: int(0, 3_600_000, 1_000),
  /** Cap of the retry delay; at least RETRY_BASE_MS. */
  RETRY_MAX_MS: int(0, 86_400_000, 300_000),
  /** How long a draining worker waits for in-flight jobs: below Kubernetes' 30 s grace period, so the release still happens. */
  SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000, 25_000),
  /** TTL of a cached COMPLETED or CANCELLED job. */
  CACHE_TTL_SECONDS: int(1, 30 * 86_400, 3_600),
  /** TTL of a cached job that can still change; bounds how long a lost or reordered cache write can show (cache.ts). */
  CACHE_ACTIVE_TTL_SECONDS: int(1, 86_400, 15),
  /** Redis key prefix: lets several systems or tests share a Redis. */
  CACHE_PREFIX: z.string().max(100).default("jobstack:"),
  /**
   * Comma-separated handler modules (paths from the working directory, or packages) loaded by
   * the api and the worker; the stacks set it from the environment file's `handlers:`
   * (services/handlers/load.ts). Empty: the builtins only.
   */
  JOB_HANDLER_MODULES: z
    .string()
    .default("")
    .transform((v): readonly string[] =>
      Object.freeze(
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      ),
    ),
  /** A worker hands a job of a type it has no handler for back, due again after this long, without using up an attempt… */
  UNKNOWN_TYPE_RETRY_MS: int(0, 86_400_000, 30_000),
  /** …until the job is this old; then it fails with the reason. */
  UNKNOWN_TYPE_FAIL_AFTER_MS: int(0, 30 * 86_400_000, 86_400_000),
  /** The api's request body limit. */
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024),
  /**
   * The api's deepest nesting of arrays/objects in a request body; deeper is a 400 naming this
   * setting (services/api/storable.ts). Bounded above: serialising a value is recursive, and a
   * few thousand levels overflow the stack.
   */
  BODY_MAX_DEPTH: int(1, 1_000, 64),
  /** Limit of each step of (re)connecting to RabbitMQ: channel, declarations, basic.consume (docs/broker-outages.md). */
  AMQP_TIMEOUT_MS: int(100, 600_000, 10_000),
  /** Consecutive basic.consume timeouts after which a quorum queue without a leader is deleted and declared again; 0 = never. */
  QUEUE_REPAIR_AFTER_TIMEOUTS: int(0, 100, 3),
  /**
   * /healthz fails once a dependency the process cannot work without (api: Postgres; worker:
   * Postgres, RabbitMQ) has been unreachable this long; /readyz fails at once
   * (docs/health-probes.md). Two minutes: far above a broker or database restart, so a short
   * outage never restarts the fleet.
   */
  DEPENDENCY_LIVENESS_LIMIT_MS: int(1_000, 86_400_000, 120_000),
  /**
   * Postgres statement_timeout of api and worker sessions (lock waits included); the client
   * gives up 5 s later if the server never answers. 0 = none.
   */
  DB_STATEMENT_TIMEOUT_MS: int(0, 86_400_000, 30_000),
  /**
   * How long a COMPLETED job (with its audit rows) is kept; 0 = forever. Any non-negative whole
   * number of seconds (tests use a few); the environment file refuses under an hour in prod-like
   * tiers (docs/storage.md).
   */
  RETENTION_COMPLETED_SECONDS: int(0, RETENTION_MAX_SECONDS, 7 * 86_400),
  /** How long a FAILED job is kept, as RETENTION_COMPLETED_SECONDS. */
  RETENTION_FAILED_SECONDS: int(0, RETENTION_MAX_SECONDS, 30 * 86_400),
  /** How long a CANCELLED job is kept, as RETENTION_COMPLETED_SECONDS. */
  RETENTION_CANCELLED_SECONDS: int(0, RETENTION_MAX_SECONDS, 7 * 86_400),
  /** How often a worker runs the retention pass. */
  RETENTION_INTERVAL_MS: int(100, 86_400_000, 60_000),
  /** Jobs deleted per retention statement. */
  RETENTION_BATCH_SIZE: int(1, 100_000, 500),
  /** Pause between two retention delete statements. */
  RETENTION_BATCH_PAUSE_MS: int(0, 60_000, 50),
  /** Span of one job_transitions partition (by job creation time). */
  RETENTION_PARTITION_SECONDS: int(1, 366 * 86_400, 86_400),
  /**
   * Bound of the job queue (x-max-length, overflow reject-publish); a job the broker refuses
   * stays PENDING for the sweeper; 0 = unbounded (queue-topology.ts).
   */
  QUEUE_MAX_LENGTH: int(0, 1_000_000_000, DEFAULT_QUEUE_MAX_LENGTH),
  /** Bound of the dead-letter queue (its oldest messages go first). */
  DEAD_LETTER_MAX_LENGTH: int(0, 1_000_000_000, DEFAULT_DEAD_LETTER_MAX_LENGTH),
});

/** The name of a variable the services read. */
export type ServiceEnvName = keyof typeof serviceEnvSchema.shape;
/** The parsed environment: every variable with its type, defaults applied. */
export type ServiceEnv = z.output<typeof serviceEnvSchema>;

export const SERVICE_ENV_NAMES = Object.freeze(Object.keys(serviceEnvSchema.shape) as ServiceEnvName[]);

/**
 * Variables the producer sets for the runtime rather than the services' loader: Node's heap and
 * libuv pool (presets/tuning/node.ts), or the JVM's options for a `runtime: jvm` worker.
 */
export const RUNTIME_ENV_NAMES = Object.freeze(["NODE_OPTIONS", "UV_THREADPOOL_SIZE", "JAVA_TOOL_OPTIONS"] as const);
export type RuntimeEnvName = (typeof RUNTIME_ENV_NAMES)[number];

/** What a producer may set: the services' variables and the runtime's, as strings. */
export type ServiceEnvVars = { readonly [K in ServiceEnvName | RuntimeEnvName]?: string };

/** The value `name` takes when unset, read from the schema (the one place defaults live). */
export function serviceEnvDefault<K extends ServiceEnvName>(name: K): ServiceEnv[K] {
  const parsed = serviceEnvSchema.shape[name].safeParse(undefined);
  if (!parsed.success) throw new Error(`${name} has no default: it must be set`);
  return parsed.data as ServiceEnv[K];
}

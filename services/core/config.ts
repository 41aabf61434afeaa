// Process configuration for the api, the worker and the migrator. The only module of the
// services that reads environment variables; everything else receives a typed ServiceConfig.
//
// Variables (design §4 first, then the ones this implementation adds):
//   DATABASE_URL        postgres://…                         required by every role
//   REDIS_URL           redis://…                            api, worker
//   AMQP_URL            amqp://… (or a comma-separated list  api, worker
//                       of cluster nodes: amqp-endpoints.ts)
//   PORT                api HTTP port                        default 8080
//   HEALTH_PORT         worker /healthz (and /metrics) port  default 8081
//   HOST                address the api and the worker's health server listen on
//                       default 0.0.0.0 (containers: probes come from outside the loopback);
//                       `jobstack local` sets 127.0.0.1
//   API_TOKEN           bearer token for /jobs*, ≥ 16 chars  api only, required
//                       (submit and read: docs/api-access.md)
//   RABBITMQ_MANAGEMENT_URL  http(s)://user:pass@host:15672 of RabbitMQ's management plugin;
//                       api only, optional: when set, GET /jobs/stats and /metrics also report
//                       unacknowledged messages, which AMQP itself cannot (docs/metrics.md);
//                       the stacks set it for a bundled RabbitMQ
//   OPERATOR_TOKEN      bearer token that may also retry and cancel (single and bulk), ≥ 16
//                       chars, different from API_TOKEN   api only, optional: unset, no one may
//                       retry or cancel (403)
//   JOB_QUEUE           RabbitMQ queue name                  default "jobs"
//   WORKER_CONCURRENCY  handlers running at once per worker   default 8
//   WORKER_PREFETCH     messages per worker; above WORKER_CONCURRENCY, jobs are claimed ahead of
//                       the handlers (services/worker/worker.ts); 0 = WORKER_CONCURRENCY   default 0
//   LEASE_MS            worker lease; renewed every third     default 30000
//   LOG_LEVEL           pino level                            default "info"
//   QUEUE_TYPE          quorum | classic                      default quorum
//   DB_POOL_SIZE        pg pool size                          default 10
//                       transitions that arrive together share a statement (core/batch.ts),
//                       so the pool need not follow concurrency; keep at least 6 for a worker
//                       (two batched claims and completions in flight, renewals, maintenance)
//   WORKER_ID           recorded in the audit log             default <hostname>-<pid>
//   REAPER_INTERVAL_MS  how often expired leases are reaped   default 5000
//   SWEEPER_INTERVAL_MS how often unconfirmed dispatches are swept   default 5000
//   SWEEP_AFTER_MS      a PENDING job is swept once it has been due and undispatched this long,
//                       so the sweeper does not race the API's own publish   default 10000
//   REDISPATCH_AFTER_MS re-send a PENDING job whose confirmed message was never claimed after
//                       this long (the broker lost it); duplicates are dropped by the claim.
//                       Keep it above the longest expected queue wait; 0 = never. default 900000
//   RETRY_BASE_MS       first retry delay; doubles per attempt, with jitter  default 1000
//   RETRY_MAX_MS        cap of the retry delay                default 300000
//   SHUTDOWN_TIMEOUT_MS how long a draining worker waits for in-flight jobs  default 25000
//                       (below Kubernetes' 30 s grace period, so release still happens)
//   CACHE_TTL_SECONDS   TTL of a cached COMPLETED or CANCELLED job        default 3600
//   CACHE_ACTIVE_TTL_SECONDS  TTL of a cached job that can still change; bounds how long a
//                       lost or reordered cache write can show              default 15
//   CACHE_PREFIX        Redis key prefix (lets several systems or tests share a Redis)  default "jobstack:"
//   JOB_HANDLER_MODULES comma-separated handler modules (paths from the working directory, or
//                       packages) loaded by the api and the worker; the stacks set it from the
//                       environment file's `handlers:` (services/handlers/load.ts). default empty
//   UNKNOWN_TYPE_RETRY_MS   a worker hands a job of a type it has no handler for back, due again
//                       after this long, without using up an attempt   default 30000
//   UNKNOWN_TYPE_FAIL_AFTER_MS …until the job is this old; then it fails with the reason  default 86400000
//   BODY_LIMIT_BYTES    api request body limit               default 1 MiB
//   BODY_MAX_DEPTH      api: deepest nesting of arrays/objects in a request body; deeper is a
//                       400 naming this setting (services/api/storable.ts)   default 64
//   AMQP_TIMEOUT_MS     limit of each step of (re)connecting to RabbitMQ: channel, declarations,
//                       basic.consume (docs/broker-outages.md)   default 10000
//   QUEUE_REPAIR_AFTER_TIMEOUTS  consecutive basic.consume timeouts after which a quorum queue
//                       without a leader is deleted and declared again; 0 = never   default 3
//   DEPENDENCY_LIVENESS_LIMIT_MS  /healthz fails once a dependency the process cannot work
//                       without (api: Postgres; worker: Postgres, RabbitMQ) has been unreachable
//                       this long; /readyz fails at once (docs/health-probes.md)   default 120000
//   DB_STATEMENT_TIMEOUT_MS  Postgres statement_timeout of api and worker sessions (lock waits
//                       included); the client gives up 5 s later if the server never answers.
//                       0 = none   default 30000
//   RETENTION_COMPLETED_SECONDS / RETENTION_FAILED_SECONDS / RETENTION_CANCELLED_SECONDS
//                       how long a final job (with its audit rows) is kept after it reached that
//                       state; 0 = forever. Any non-negative whole number of seconds (tests use a
//                       few); the environment file refuses under an hour in prod-like tiers
//                       (docs/storage.md)                 defaults 604800 / 2592000 / 604800
//   RETENTION_INTERVAL_MS how often a worker runs the retention pass      default 60000
//   RETENTION_BATCH_SIZE jobs deleted per statement        default 500
//   RETENTION_BATCH_PAUSE_MS pause between two delete statements       default 50
//   RETENTION_PARTITION_SECONDS span of one job_transitions partition (by job creation time)
//                       default 86400
//   QUEUE_MAX_LENGTH    bound of the job queue (x-max-length, overflow reject-publish); a job
//                       the broker refuses stays PENDING for the sweeper; 0 = unbounded  default 1000000
//   DEAD_LETTER_MAX_LENGTH bound of the dead-letter queue (its oldest messages go first)  default 100000

import os from "node:os";
import { z } from "zod";
import { AmqpUrlError, parseAmqpUrls } from "./amqp-endpoints.js";
import { DEFAULT_DEAD_LETTER_MAX_LENGTH, DEFAULT_QUEUE_MAX_LENGTH } from "./queue-topology.js";

export type ServiceRole = "api" | "worker" | "migrate";

export interface ServiceConfig {
  readonly role: ServiceRole;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly amqpUrl: string;
  readonly port: number;
  readonly host: string;
  readonly healthPort: number;
  readonly apiToken: string;
  /** "" when unset: the operator routes then answer 403 to everyone. */
  readonly operatorToken: string;
  /** "" when unset: unacknowledged messages are not reported. */
  readonly rabbitmqManagementUrl: string;
  readonly jobQueue: string;
  readonly queueType: "quorum" | "classic";
  readonly workerConcurrency: number;
  readonly workerPrefetch: number;
  readonly leaseMs: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  readonly dbPoolSize: number;
  readonly workerId: string;
  readonly reaperIntervalMs: number;
  readonly sweeperIntervalMs: number;
  readonly sweepAfterMs: number;
  readonly redispatchAfterMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly shutdownTimeoutMs: number;
  readonly cacheTtlSeconds: number;
  readonly cacheActiveTtlSeconds: number;
  readonly cachePrefix: string;
  readonly handlerModules: readonly string[];
  readonly unknownTypeRetryMs: number;
  readonly unknownTypeFailAfterMs: number;
  readonly bodyLimitBytes: number;
  readonly bodyMaxDepth: number;
  readonly amqpTimeoutMs: number;
  readonly queueRepairAfterTimeouts: number;
  readonly dependencyLivenessLimitMs: number;
  readonly dbStatementTimeoutMs: number;
  /** Seconds a final job is kept, by state; 0 = forever (docs/storage.md). */
  readonly retention: { readonly completed: number; readonly failed: number; readonly cancelled: number };
  readonly retentionIntervalMs: number;
  readonly retentionBatchSize: number;
  readonly retentionBatchPauseMs: number;
  readonly retentionPartitionSeconds: number;
  readonly queueMaxLength: number;
  readonly deadLetterMaxLength: number;
}

/** Every problem found in the environment, reported together. Never contains a secret's value. */
export class ServiceConfigError extends Error {
  override name = "ServiceConfigError";
  constructor(readonly issues: readonly string[]) {
    super(`invalid service configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n  - ${issues.join("\n  - ")}`);
  }
}

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

const optionalUrl = (protocols: readonly string[]) => url(protocols).optional();

const schema = z.object({
  DATABASE_URL: url(["postgres:", "postgresql:"]),
  REDIS_URL: optionalUrl(["redis:", "rediss:"]),
  AMQP_URL: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseAmqpUrls(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: err instanceof AmqpUrlError ? err.message : "is not a valid AMQP URL list" });
      }
    })
    .optional(),
  PORT: int(0, 65535, 8080),
  HOST: z.string().min(1).default("0.0.0.0"),
  HEALTH_PORT: int(0, 65535, 8081),
  API_TOKEN: z.string().min(16, { error: "must be at least 16 characters" }).optional(),
  OPERATOR_TOKEN: z.string().min(16, { error: "must be at least 16 characters" }).optional(),
  RABBITMQ_MANAGEMENT_URL: optionalUrl(["http:", "https:"]),
  JOB_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, { error: "must be 1-200 characters of A-Z a-z 0-9 _ . : -" })
    .default("jobs"),
  QUEUE_TYPE: z.enum(["quorum", "classic"], { error: "must be quorum or classic" }).default("quorum"),
  WORKER_CONCURRENCY: int(1, 1000, 8),
  WORKER_PREFETCH: int(0, 10_000, 0),
  LEASE_MS: int(200, 3_600_000, 30_000),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "must be one of fatal error warn info debug trace silent",
    })
    .default("info"),
  DB_POOL_SIZE: int(1, 1000, 10),
  WORKER_ID: z.string().min(1).max(200).optional(),
  REAPER_INTERVAL_MS: int(50, 3_600_000, 5_000),
  SWEEPER_INTERVAL_MS: int(50, 3_600_000, 5_000),
  SWEEP_AFTER_MS: int(0, 86_400_000, 10_000),
  REDISPATCH_AFTER_MS: int(0, 7 * 86_400_000, 900_000),
  RETRY_BASE_MS: int(0, 3_600_000, 1_000),
  RETRY_MAX_MS: int(0, 86_400_000, 300_000),
  SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000, 25_000),
  CACHE_TTL_SECONDS: int(1, 30 * 86_400, 3_600),
  CACHE_ACTIVE_TTL_SECONDS: int(1, 86_400, 15),
  CACHE_PREFIX: z.string().max(100).default("jobstack:"),
  JOB_HANDLER_MODULES: z.string().default(""),
  UNKNOWN_TYPE_RETRY_MS: int(0, 86_400_000, 30_000),
  UNKNOWN_TYPE_FAIL_AFTER_MS: int(0, 30 * 86_400_000, 86_400_000),
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024, 1024 * 1024),
  // Bounded above: serialising a value is recursive, and a few thousand levels overflow the stack.
  BODY_MAX_DEPTH: int(1, 1_000, 64),
  AMQP_TIMEOUT_MS: int(100, 600_000, 10_000),
  QUEUE_REPAIR_AFTER_TIMEOUTS: int(0, 100, 3),
  DEPENDENCY_LIVENESS_LIMIT_MS: int(1_000, 86_400_000, 120_000),
  DB_STATEMENT_TIMEOUT_MS: int(0, 86_400_000, 30_000),
  RETENTION_COMPLETED_SECONDS: int(0, 100 * 365 * 86_400, 7 * 86_400),
  RETENTION_FAILED_SECONDS: int(0, 100 * 365 * 86_400, 30 * 86_400),
  RETENTION_CANCELLED_SECONDS: int(0, 100 * 365 * 86_400, 7 * 86_400),
  RETENTION_INTERVAL_MS: int(100, 86_400_000, 60_000),
  RETENTION_BATCH_SIZE: int(1, 100_000, 500),
  RETENTION_BATCH_PAUSE_MS: int(0, 60_000, 50),
  RETENTION_PARTITION_SECONDS: int(1, 366 * 86_400, 86_400),
  QUEUE_MAX_LENGTH: int(0, 1_000_000_000, DEFAULT_QUEUE_MAX_LENGTH),
  DEAD_LETTER_MAX_LENGTH: int(0, 1_000_000_000, DEFAULT_DEAD_LETTER_MAX_LENGTH),
});

/** Reads and validates the environment for one role; throws one ServiceConfigError listing every issue. */
export function loadServiceConfig(role: ServiceRole, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  // Empty strings mean "unset": compose files and shells often export VAR= for optional values.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(input);
  const issues: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(`${issue.path.join(".") || "(root)"} ${issue.message}`);
  }
  const needs = (name: "REDIS_URL" | "AMQP_URL" | "API_TOKEN") => {
    if (input[name] === undefined) issues.push(`${name} is required for the ${role}`);
  };
  if (role !== "migrate") {
    needs("REDIS_URL");
    needs("AMQP_URL");
  }
  if (role === "api") needs("API_TOKEN");
  if (parsed.success && parsed.data.OPERATOR_TOKEN !== undefined && parsed.data.OPERATOR_TOKEN === parsed.data.API_TOKEN) {
    // One token for both rights would make every submitter an operator without anyone noticing.
    issues.push("OPERATOR_TOKEN must differ from API_TOKEN");
  }
  if (parsed.success && parsed.data.RETRY_MAX_MS < parsed.data.RETRY_BASE_MS) {
    issues.push(`RETRY_MAX_MS (${parsed.data.RETRY_MAX_MS}) must be at least RETRY_BASE_MS (${parsed.data.RETRY_BASE_MS})`);
  }
  if (!parsed.success || issues.length > 0) throw new ServiceConfigError(issues);
  const d = parsed.data;
  return Object.freeze({
    role,
    databaseUrl: d.DATABASE_URL,
    redisUrl: d.REDIS_URL ?? "",
    amqpUrl: d.AMQP_URL ?? "",
    port: d.PORT,
    host: d.HOST,
    healthPort: d.HEALTH_PORT,
    apiToken: d.API_TOKEN ?? "",
    operatorToken: d.OPERATOR_TOKEN ?? "",
    rabbitmqManagementUrl: d.RABBITMQ_MANAGEMENT_URL ?? "",
    jobQueue: d.JOB_QUEUE,
    queueType: d.QUEUE_TYPE,
    workerConcurrency: d.WORKER_CONCURRENCY,
    workerPrefetch: Math.max(d.WORKER_PREFETCH, d.WORKER_CONCURRENCY),
    leaseMs: d.LEASE_MS,
    logLevel: d.LOG_LEVEL,
    dbPoolSize: d.DB_POOL_SIZE,
    workerId: d.WORKER_ID ?? `${os.hostname()}-${process.pid}`,
    reaperIntervalMs: d.REAPER_INTERVAL_MS,
    sweeperIntervalMs: d.SWEEPER_INTERVAL_MS,
    sweepAfterMs: d.SWEEP_AFTER_MS,
    redispatchAfterMs: d.REDISPATCH_AFTER_MS,
    retryBaseMs: d.RETRY_BASE_MS,
    retryMaxMs: d.RETRY_MAX_MS,
    shutdownTimeoutMs: d.SHUTDOWN_TIMEOUT_MS,
    cacheTtlSeconds: d.CACHE_TTL_SECONDS,
    cacheActiveTtlSeconds: d.CACHE_ACTIVE_TTL_SECONDS,
    cachePrefix: d.CACHE_PREFIX,
    handlerModules: Object.freeze(
      d.JOB_HANDLER_MODULES.split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
    unknownTypeRetryMs: d.UNKNOWN_TYPE_RETRY_MS,
    unknownTypeFailAfterMs: d.UNKNOWN_TYPE_FAIL_AFTER_MS,
    bodyLimitBytes: d.BODY_LIMIT_BYTES,
    bodyMaxDepth: d.BODY_MAX_DEPTH,
    amqpTimeoutMs: d.AMQP_TIMEOUT_MS,
    queueRepairAfterTimeouts: d.QUEUE_REPAIR_AFTER_TIMEOUTS,
    dependencyLivenessLimitMs: d.DEPENDENCY_LIVENESS_LIMIT_MS,
    dbStatementTimeoutMs: d.DB_STATEMENT_TIMEOUT_MS,
    retention: Object.freeze({
      completed: d.RETENTION_COMPLETED_SECONDS,
      failed: d.RETENTION_FAILED_SECONDS,
      cancelled: d.RETENTION_CANCELLED_SECONDS,
    }),
    retentionIntervalMs: d.RETENTION_INTERVAL_MS,
    retentionBatchSize: d.RETENTION_BATCH_SIZE,
    retentionBatchPauseMs: d.RETENTION_BATCH_PAUSE_MS,
    retentionPartitionSeconds: d.RETENTION_PARTITION_SECONDS,
    queueMaxLength: d.QUEUE_MAX_LENGTH,
    deadLetterMaxLength: d.DEAD_LETTER_MAX_LENGTH,
  });
}

/** The config with credentials masked, for logging at start-up. */
export function redactConfig(config: ServiceConfig): Record<string, unknown> {
  const mask = (u: string) => {
    if (u === "") return u;
    try {
      const parsed = new URL(u);
      if (parsed.password) parsed.password = "***";
      return parsed.toString();
    } catch {
      return "***";
    }
  };
  return {
    ...config,
    databaseUrl: mask(config.databaseUrl),
    redisUrl: mask(config.redisUrl),
    amqpUrl: config.amqpUrl === "" ? "" : parseAmqpUrls(config.amqpUrl).map(mask).join(","),
    apiToken: config.apiToken ? "***" : "",
    operatorToken: config.operatorToken ? "***" : "",
    rabbitmqManagementUrl: mask(config.rabbitmqManagementUrl),
  };
}

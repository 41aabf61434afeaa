// Process configuration for the api, the worker and the migrator. The only module of the
// services that reads environment variables; everything else receives a typed ServiceConfig.
// The variables themselves (documentation, types, ranges, defaults) are the schema in
// env-contract.ts; this module checks what one role requires and names the fields.

import { parseAmqpUrls } from "./amqp-endpoints.js";
import { serviceEnvSchema, WORKER_PREFETCH_MAX, type ServiceEnv, type ServiceEnvName, type ServiceRole } from "./env-contract.js";

export type { ServiceRole } from "./env-contract.js";

/**
 * ServiceConfig's field names, each with the variable it comes from. A nested table becomes a
 * nested object. Every variable of the contract appears exactly once (checked below by tsc).
 */
const FIELDS = {
  databaseUrl: "DATABASE_URL",
  /** "" when unset (the migrator). */
  redisUrl: "REDIS_URL",
  /** "" when unset (the migrator). */
  amqpUrl: "AMQP_URL",
  port: "PORT",
  host: "HOST",
  healthPort: "HEALTH_PORT",
  apiToken: "API_TOKEN",
  /** "" when unset: the operator routes then answer 403 to everyone. */
  operatorToken: "OPERATOR_TOKEN",
  /** "" when unset: unacknowledged messages are not reported. */
  rabbitmqManagementUrl: "RABBITMQ_MANAGEMENT_URL",
  jobQueue: "JOB_QUEUE",
  queueType: "QUEUE_TYPE",
  workerConcurrency: "WORKER_CONCURRENCY",
  /** As set: 0 means 4 × workerConcurrency, anything below workerConcurrency means workerConcurrency; see consumerPrefetch. */
  workerPrefetch: "WORKER_PREFETCH",
  leaseMs: "LEASE_MS",
  logLevel: "LOG_LEVEL",
  dbPoolSize: "DB_POOL_SIZE",
  workerId: "WORKER_ID",
  reaperIntervalMs: "REAPER_INTERVAL_MS",
  sweeperIntervalMs: "SWEEPER_INTERVAL_MS",
  sweepAfterMs: "SWEEP_AFTER_MS",
  redispatchAfterMs: "REDISPATCH_AFTER_MS",
  retryBaseMs: "RETRY_BASE_MS",
  retryMaxMs: "RETRY_MAX_MS",
  shutdownTimeoutMs: "SHUTDOWN_TIMEOUT_MS",
  cacheTtlSeconds: "CACHE_TTL_SECONDS",
  cacheActiveTtlSeconds: "CACHE_ACTIVE_TTL_SECONDS",
  cachePrefix: "CACHE_PREFIX",
  handlerModules: "JOB_HANDLER_MODULES",
  unknownTypeRetryMs: "UNKNOWN_TYPE_RETRY_MS",
  unknownTypeFailAfterMs: "UNKNOWN_TYPE_FAIL_AFTER_MS",
  bodyLimitBytes: "BODY_LIMIT_BYTES",
  bodyMaxDepth: "BODY_MAX_DEPTH",
  amqpTimeoutMs: "AMQP_TIMEOUT_MS",
  queueRepairAfterTimeouts: "QUEUE_REPAIR_AFTER_TIMEOUTS",
  dependencyLivenessLimitMs: "DEPENDENCY_LIVENESS_LIMIT_MS",
  dbStatementTimeoutMs: "DB_STATEMENT_TIMEOUT_MS",
  /** Seconds a final job is kept, by state; 0 = forever (docs/storage.md). */
  retention: {
    completed: "RETENTION_COMPLETED_SECONDS",
    failed: "RETENTION_FAILED_SECONDS",
    cancelled: "RETENTION_CANCELLED_SECONDS",
  },
  retentionIntervalMs: "RETENTION_INTERVAL_MS",
  retentionBatchSize: "RETENTION_BATCH_SIZE",
  retentionBatchPauseMs: "RETENTION_BATCH_PAUSE_MS",
  retentionPartitionSeconds: "RETENTION_PARTITION_SECONDS",
  queueMaxLength: "QUEUE_MAX_LENGTH",
  deadLetterMaxLength: "DEAD_LETTER_MAX_LENGTH",
} as const satisfies FieldTable;

interface FieldTable {
  readonly [field: string]: ServiceEnvName | FieldTable;
}

type Fields<T> = { readonly [K in keyof T]: T[K] extends ServiceEnvName ? ServiceEnv[T[K]] : Fields<T[K]> };

type Leaves<T> = { [K in keyof T]: T[K] extends ServiceEnvName ? T[K] : Leaves<T[K]> }[keyof T];
// A variable of the contract without a field fails here, naming it.
const everyVariableHasAField: Record<Exclude<ServiceEnvName, Leaves<typeof FIELDS>>, never> = {};
void everyVariableHasAField;

/** The typed configuration of one process: the parsed variables under FIELDS' names. */
export type ServiceConfig = { readonly role: ServiceRole } & Fields<typeof FIELDS>;

/** Every problem found in the environment, reported together. Never contains a secret's value. */
export class ServiceConfigError extends Error {
  override name = "ServiceConfigError";
  constructor(readonly issues: readonly string[]) {
    super(`invalid service configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n  - ${issues.join("\n  - ")}`);
  }
}

/** Reads and validates the environment for one role; throws one ServiceConfigError listing every issue. */
export function loadServiceConfig(role: ServiceRole, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  // Empty strings mean "unset": compose files and shells often export VAR= for optional values.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = serviceEnvSchema.safeParse(input);
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
  if (parsed.success && parsed.data.OPERATOR_TOKEN !== "" && parsed.data.OPERATOR_TOKEN === parsed.data.API_TOKEN) {
    // One token for both rights would make every submitter an operator without anyone noticing.
    issues.push("OPERATOR_TOKEN must differ from API_TOKEN");
  }
  if (parsed.success && parsed.data.RETRY_MAX_MS < parsed.data.RETRY_BASE_MS) {
    issues.push(`RETRY_MAX_MS (${parsed.data.RETRY_MAX_MS}) must be at least RETRY_BASE_MS (${parsed.data.RETRY_BASE_MS})`);
  }
  if (!parsed.success || issues.length > 0) throw new ServiceConfigError(issues);
  return Object.freeze({ role, ...fieldsOf(FIELDS, parsed.data) });
}

function fieldsOf<T extends FieldTable>(table: T, env: ServiceEnv): Fields<T> {
  const entries = Object.entries(table).map(([field, source]) => [field, typeof source === "string" ? env[source as ServiceEnvName] : Object.freeze(fieldsOf(source, env))]);
  return Object.fromEntries(entries) as Fields<T>;
}

/** How many times its concurrency a worker claims ahead when WORKER_PREFETCH is unset. */
export const CLAIM_AHEAD_FACTOR = 4;

/**
 * The worker's consumer prefetch: how many jobs it holds at once (waiting for a handler slot,
 * running, or recording their outcome). Claim ahead is the default (WORKER_PREFETCH 0): the
 * claims of the waiting jobs commit while the handlers run, and their leases cost one renewal
 * statement per tick for all of them (services/worker/leases.ts). A side-by-side run measured
 * 1.84× the throughput of prefetch = concurrency (bench/results/throughput-notes.md). Never
 * below the concurrency, so every handler slot can have a job; WORKER_PREFETCH =
 * WORKER_CONCURRENCY turns claim ahead off.
 */
export function consumerPrefetch(config: Pick<ServiceConfig, "workerConcurrency" | "workerPrefetch">): number {
  if (config.workerPrefetch === 0) return Math.min(CLAIM_AHEAD_FACTOR * config.workerConcurrency, WORKER_PREFETCH_MAX);
  return Math.max(config.workerPrefetch, config.workerConcurrency);
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

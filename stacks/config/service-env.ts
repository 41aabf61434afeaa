/**
 * Translates a resolved environment into the non-secret environment variables of the api and
 * worker processes (each listed with its default in services/core/config.ts). The services
 * never read presets; this is the only bridge, used by both targets and by `jobstack local`.
 * Connection URLs and the API token are secrets and are added by the caller (Terraform variables
 * on the targets, local defaults in `jobstack local`).
 */
import { retentionSeconds } from "../../presets/retention.js";
import type { ResolvedEnvironment } from "./resolve.js";

export type ServiceRole = "api" | "worker";

export const API_PORT = 8080;
export const WORKER_HEALTH_PORT = 8081;
export const JOB_QUEUE = "jobs";
/**
 * How long a dependency the process cannot work without may be unreachable before /healthz
 * fails and the orchestrator restarts the process; readiness fails at once (docs/health-probes.md).
 * Two minutes: far above a broker or database restart, so a short outage never restarts the fleet.
 */
export const DEPENDENCY_LIVENESS_LIMIT_MS = 120_000;

/**
 * The api's two bearer tokens, by the environment variable services/core/config.ts reads
 * (docs/api-access.md). Both are secrets: the targets fill them from sensitive variables or
 * Secrets, never from this module.
 */
export const TOKEN_ENV = {
  /** Submit and read jobs. */
  submit: "API_TOKEN",
  /** Also retry and cancel, single and bulk (the dashboard's buttons). */
  operator: "OPERATOR_TOKEN",
} as const;

export function serviceEnvironment(env: ResolvedEnvironment, role: ServiceRole): Record<string, string> {
  const { preset, derived } = env;
  const common = {
    LOG_LEVEL: env.environment.logLevel,
    JOB_QUEUE,
    QUEUE_TYPE: preset.rabbitmq.queueType,
    // The api publishes and reads; its lease setting is unused but harmless, so both roles
    // share one list and a misconfigured process fails the same way.
    LEASE_MS: String(preset.worker.leaseMs),
    WORKER_CONCURRENCY: String(preset.worker.concurrency),
    // Both roles load the same modules: the api refuses at submit what no worker could run.
    JOB_HANDLER_MODULES: env.handlers.modules.join(","),
    // Both roles declare the queues, so both carry the bounds (docs/storage.md).
    QUEUE_MAX_LENGTH: String(preset.rabbitmq.maxQueueLength),
    DEAD_LETTER_MAX_LENGTH: String(preset.rabbitmq.maxDeadLetterLength),
    DEPENDENCY_LIVENESS_LIMIT_MS: String(DEPENDENCY_LIVENESS_LIMIT_MS),
  };
  if (role === "api") {
    return {
      ...common,
      PORT: String(API_PORT),
      DB_POOL_SIZE: String(preset.api.dbPoolSize),
      ...derived.api.node.env,
    };
  }
  const runtimeEnv =
    env.environment.worker.runtime === "jvm" ? { JAVA_TOOL_OPTIONS: derived.worker.jvm.javaToolOptions } : derived.worker.node.env;
  return {
    ...common,
    HEALTH_PORT: String(WORKER_HEALTH_PORT),
    DB_POOL_SIZE: String(preset.worker.dbPoolSize),
    ...retentionEnv(env),
    ...runtimeEnv,
  };
}

/** The retention pass runs in the workers; seconds, 0 = forever (services/core/config.ts). */
function retentionEnv(env: ResolvedEnvironment): Record<string, string> {
  const r = retentionSeconds(env.preset.retention);
  return {
    RETENTION_COMPLETED_SECONDS: String(r.completed),
    RETENTION_FAILED_SECONDS: String(r.failed),
    RETENTION_CANCELLED_SECONDS: String(r.cancelled),
    RETENTION_INTERVAL_MS: String(r.intervalSeconds * 1000),
    RETENTION_PARTITION_SECONDS: String(r.partitionSeconds),
  };
}

/**
 * Translates a resolved environment into the non-secret environment variables of the api and
 * worker processes. The services never read presets; this is the only bridge, used by both
 * targets and by `jobstack local`. Connection URLs and the API token are secrets and are added
 * by the caller (Terraform variables on the targets, local defaults in `jobstack local`).
 *
 * The variable names and their defaults come from the services' contract
 * (services/core/env-contract.ts): a name the services do not read fails tsc, and
 * test/services/env-contract.test.ts loads every synthesized environment with the services'
 * own loader.
 */
import { retentionSeconds } from "../../presets/retention.js";
import { serviceEnvDefault, type ServiceEnvName, type ServiceEnvVars, type ServiceRole } from "../../services/core/env-contract.js";
import type { ResolvedEnvironment } from "./resolve.js";

/** The roles the stacks write a service environment for; the migrate Job gets only DATABASE_URL. */
export type ServiceEnvRole = Exclude<ServiceRole, "migrate">;

// The stacks set these to the services' defaults, explicitly: the same numbers also open the
// container ports, point the probes and name the queue in the stacks, so the rendered
// environment states them rather than leaving them to a default the reader cannot see.
export const API_PORT = serviceEnvDefault("PORT");
export const WORKER_HEALTH_PORT = serviceEnvDefault("HEALTH_PORT");
export const JOB_QUEUE = serviceEnvDefault("JOB_QUEUE");
/**
 * How long a dependency the process cannot work without may be unreachable before /healthz
 * fails and the orchestrator restarts the process (docs/health-probes.md). Rendered explicitly:
 * the probes in stacks/topology.ts are described in terms of it.
 */
export const DEPENDENCY_LIVENESS_LIMIT_MS = serviceEnvDefault("DEPENDENCY_LIVENESS_LIMIT_MS");

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
} as const satisfies Record<string, ServiceEnvName>;

// DB_POOL_SIZE is always set from the preset rather than left to the services' default: the
// preset sizes each service's pool, and the connection budget (presets/cross-checks.ts) counts
// exactly those numbers against Postgres' max_connections.
export function serviceEnvironment(env: ResolvedEnvironment, role: ServiceEnvRole): ServiceEnvVars {
  const { preset, derived } = env;
  const common: ServiceEnvVars = {
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
function retentionEnv(env: ResolvedEnvironment): ServiceEnvVars {
  const r = retentionSeconds(env.preset.retention);
  return {
    RETENTION_COMPLETED_SECONDS: String(r.completed),
    RETENTION_FAILED_SECONDS: String(r.failed),
    RETENTION_CANCELLED_SECONDS: String(r.cancelled),
    RETENTION_INTERVAL_MS: String(r.intervalSeconds * 1000),
    RETENTION_PARTITION_SECONDS: String(r.partitionSeconds),
  };
}

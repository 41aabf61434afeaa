/**
 * Translates a resolved environment into the non-secret environment variables of the api and
 * worker processes (design §4). The services never read presets; this is the only bridge, used
 * by both targets and by `jobstack local`. Connection URLs and the API token are secrets and are
 * added by the caller (Terraform variables on the targets, local defaults in `jobstack local`).
 */
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
    ...runtimeEnv,
  };
}

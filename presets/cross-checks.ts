/**
 * Checks across fields of one (merged) preset. Each message names every field involved, so the
 * fix is obvious from the message alone. Limits that belong to one formula (heap fits memory,
 * G1 region size, Redis maxmemory) live with that formula in presets/tuning/.
 */
import type { Preset } from "./schema.js";
import type { TuningIssue } from "./tuning/issues.js";

/** The pools Postgres must serve at the most, autoscaling included. */
export interface ConnectionBudget {
  readonly apiReplicas: number;
  readonly apiPool: number;
  readonly workerReplicas: number;
  readonly workerPool: number;
  readonly reserve: number;
  readonly total: number;
}

export function connectionBudget(p: Preset): ConnectionBudget {
  const autoscaling = p.worker.autoscaling?.enabled ? p.worker.autoscaling : undefined;
  const workerReplicas = Math.max(p.worker.replicas, autoscaling?.maxReplicas ?? 0);
  const total = p.api.replicas * p.api.dbPoolSize + workerReplicas * p.worker.dbPoolSize + p.postgres.connectionReserve;
  return {
    apiReplicas: p.api.replicas,
    apiPool: p.api.dbPoolSize,
    workerReplicas,
    workerPool: p.worker.dbPoolSize,
    reserve: p.postgres.connectionReserve,
    total,
  };
}

/** Connections a worker needs beyond one per in-flight job. */
export const WORKER_POOL_HEADROOM = 2;

const GC_SELECTORS = /^-XX:\+Use(G1|Parallel|ParallelOld|Serial|Z|Shenandoah|ConcMarkSweep|Epsilon)GC$/;
const FIXED_HEAP = /^-Xm[xs]\d|^-XX:(Max|Initial|Min)HeapSize=/;

export function presetCrossIssues(p: Preset): TuningIssue[] {
  const issues: TuningIssue[] = [];
  const budget = connectionBudget(p);
  if (p.postgres.maxConnections < budget.total) {
    const workerLabel = budget.workerReplicas === p.worker.replicas ? "worker" : "worker (autoscaling max)";
    issues.push({
      path: "postgres.maxConnections",
      related: ["api.replicas", "api.dbPoolSize", "worker.replicas", "worker.dbPoolSize", "worker.autoscaling.maxReplicas", "postgres.connectionReserve"],
      message:
        `postgres.maxConnections (${p.postgres.maxConnections}) is below the pools it must serve ` +
        `(api ${budget.apiReplicas}×${budget.apiPool} + ${workerLabel} ${budget.workerReplicas}×${budget.workerPool} + ` +
        `reserve ${budget.reserve} = ${budget.total}); raise it or shrink api.dbPoolSize / worker.dbPoolSize`,
    });
  }

  // Each in-flight job needs a connection for its claim and outcome transitions, and lease
  // renewal, the reaper and the sweeper need theirs. Measured with 4 worker processes and 2,000
  // noop jobs: concurrency 16 on a pool of 5 took 62 s, concurrency 8 on a pool of 8 took 26 s.
  const workerPoolFloor = p.worker.concurrency + WORKER_POOL_HEADROOM;
  if (p.worker.dbPoolSize < workerPoolFloor) {
    issues.push({
      path: "worker.dbPoolSize",
      related: ["worker.concurrency"],
      message:
        `worker.dbPoolSize (${p.worker.dbPoolSize}) is below worker.concurrency (${p.worker.concurrency}) + ${WORKER_POOL_HEADROOM} ` +
        `(lease renewal, reaper, sweeper): jobs would queue for a connection; raise it to ${workerPoolFloor}`,
    });
  }

  if (p.healthCheck.timeoutSeconds >= p.healthCheck.intervalSeconds) {
    issues.push({
      path: "healthCheck.timeoutSeconds",
      related: ["healthCheck.intervalSeconds"],
      message: `healthCheck.timeoutSeconds (${p.healthCheck.timeoutSeconds}) must be less than healthCheck.intervalSeconds (${p.healthCheck.intervalSeconds})`,
    });
  }

  if (p.rollout.maxSurge === 0 && p.rollout.maxUnavailable === 0) {
    issues.push({
      path: "rollout.maxSurge",
      message: "rollout.maxSurge (0) and rollout.maxUnavailable (0) cannot both be zero: a rollout could never make progress",
    });
  }

  const as = p.worker.autoscaling;
  if (as?.enabled && as.minReplicas > as.maxReplicas) {
    issues.push({
      path: "worker.autoscaling.minReplicas",
      message: `worker.autoscaling.minReplicas (${as.minReplicas}) must not exceed worker.autoscaling.maxReplicas (${as.maxReplicas})`,
    });
  }
  if (as?.enabled && (p.worker.replicas < as.minReplicas || p.worker.replicas > as.maxReplicas)) {
    issues.push({
      path: "worker.replicas",
      message: `worker.replicas (${p.worker.replicas}) must lie within worker.autoscaling.minReplicas..maxReplicas (${as.minReplicas}..${as.maxReplicas})`,
    });
  }

  // RabbitMQ closes the channel of a consumer that holds an unacked delivery longer than
  // consumer_timeout. A job may run for several leases, but at least one lease must fit.
  if (p.rabbitmq.consumerTimeoutMs <= p.worker.leaseMs) {
    issues.push({
      path: "rabbitmq.consumerTimeoutMs",
      related: ["worker.leaseMs"],
      message: `rabbitmq.consumerTimeoutMs (${p.rabbitmq.consumerTimeoutMs}) must exceed worker.leaseMs (${p.worker.leaseMs}), or the broker drops deliveries of jobs still under lease`,
    });
  }

  p.worker.jvm.extraFlags.forEach((flag, i) => {
    if (GC_SELECTORS.test(flag)) {
      issues.push({
        path: `worker.jvm.extraFlags[${i}]`,
        message: `worker.jvm.extraFlags[${i}] (${flag}) selects a collector, but worker.jvm.gc (${p.worker.jvm.gc}) already does: exactly one GC may be selected`,
      });
    }
    if (FIXED_HEAP.test(flag)) {
      issues.push({
        path: `worker.jvm.extraFlags[${i}]`,
        message: `worker.jvm.extraFlags[${i}] (${flag}) fixes the heap size, which overrides worker.jvm.maxRamPercentage and ignores the container limit; remove it`,
      });
    }
  });
  return issues;
}

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

/**
 * Where the preset is deployed, as far as the checks care. Worker autoscaling exists only on
 * Kubernetes; Docker runs the preset's `replicas`.
 * @default { autoscaling: true } (a preset on its own is checked for its largest deployment)
 */
export interface PresetContext {
  readonly autoscaling: boolean;
}

export const PRESET_ALONE: PresetContext = { autoscaling: true };

type BudgetInput = Pick<Preset, "api" | "worker" | "postgres">;

export function connectionBudget(p: BudgetInput, ctx: PresetContext = PRESET_ALONE): ConnectionBudget {
  const autoscaling = ctx.autoscaling && p.worker.autoscaling?.enabled ? p.worker.autoscaling : undefined;
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

/**
 * The smallest worker pool: two batched claim statements and two batched completions in flight,
 * one for renewals and failures, one for the reaper or sweeper. Measured with 4 worker processes
 * × concurrency 16 and 2,000 noop jobs (test/reliability/concurrency.test.ts): a pool of 5 took
 * 12.6–14.1 s and a pool of 18 took 14.4–15.0 s, so beyond this floor the pool need not follow
 * concurrency. (Before batching, a pool of 5 took 62 s against 26 s for concurrency 8 on 8.)
 */
export const WORKER_POOL_MIN = 6;

const GC_SELECTORS = /^-XX:\+Use(G1|Parallel|ParallelOld|Serial|Z|Shenandoah|ConcMarkSweep|Epsilon)GC$/;
const FIXED_HEAP = /^-Xm[xs]\d|^-XX:(Max|Initial|Min)HeapSize=/;

/**
 * Checks across fields. Takes a partial preset so that, when some sections failed their schema,
 * the checks whose sections parsed still run and every problem shows in one run.
 */
export function presetCrossIssues(p: Partial<Preset>, ctx: PresetContext = PRESET_ALONE): TuningIssue[] {
  const issues: TuningIssue[] = [];
  if (p.api && p.worker && p.postgres) issues.push(...connectionIssues({ api: p.api, worker: p.worker, postgres: p.postgres }, ctx));
  if (p.worker) issues.push(...workerIssues(p.worker));
  if (p.healthCheck && p.healthCheck.timeoutSeconds >= p.healthCheck.intervalSeconds) {
    issues.push({
      path: "healthCheck.timeoutSeconds",
      related: ["healthCheck.intervalSeconds"],
      message: `healthCheck.timeoutSeconds (${p.healthCheck.timeoutSeconds}) must be less than healthCheck.intervalSeconds (${p.healthCheck.intervalSeconds})`,
    });
  }
  if (p.rollout && p.rollout.maxSurge === 0 && p.rollout.maxUnavailable === 0) {
    issues.push({
      path: "rollout.maxSurge",
      message: "rollout.maxSurge (0) and rollout.maxUnavailable (0) cannot both be zero: a rollout could never make progress",
    });
  }
  // RabbitMQ closes the channel of a consumer that holds an unacked delivery longer than
  // consumer_timeout. A job may run for several leases, but at least one lease must fit.
  if (p.rabbitmq && p.worker && p.rabbitmq.consumerTimeoutMs <= p.worker.leaseMs) {
    issues.push({
      path: "rabbitmq.consumerTimeoutMs",
      related: ["worker.leaseMs"],
      message: `rabbitmq.consumerTimeoutMs (${p.rabbitmq.consumerTimeoutMs}) must exceed worker.leaseMs (${p.worker.leaseMs}), or the broker drops deliveries of jobs still under lease`,
    });
  }
  return issues;
}

function connectionIssues(p: BudgetInput, ctx: PresetContext): TuningIssue[] {
  const issues: TuningIssue[] = [];
  const budget = connectionBudget(p, ctx);
  if (p.postgres.maxConnections < budget.total) {
    const workerLabel = budget.workerReplicas === p.worker.replicas ? "worker" : "worker (autoscaling max)";
    issues.push({
      path: "postgres.maxConnections",
      related: [
        "api.replicas",
        "api.dbPoolSize",
        "worker.replicas",
        "worker.dbPoolSize",
        ...(ctx.autoscaling ? ["worker.autoscaling.maxReplicas"] : []),
        "postgres.connectionReserve",
      ],
      message:
        `postgres.maxConnections (${p.postgres.maxConnections}) is below the pools it must serve ` +
        `(api ${budget.apiReplicas}×${budget.apiPool} + ${workerLabel} ${budget.workerReplicas}×${budget.workerPool} + ` +
        `reserve ${budget.reserve} = ${budget.total}); raise it or shrink api.dbPoolSize / worker.dbPoolSize`,
    });
  }

  return issues;
}

function workerIssues(worker: Preset["worker"]): TuningIssue[] {
  const issues: TuningIssue[] = [];
  // A worker batches claims and completions (services/core/batch.ts), so its pool does not grow
  // with concurrency, but it needs room for the statements that can be in flight at once.
  if (worker.dbPoolSize < WORKER_POOL_MIN) {
    issues.push({
      path: "worker.dbPoolSize",
      message:
        `worker.dbPoolSize (${worker.dbPoolSize}) is below ${WORKER_POOL_MIN}: claims and completions each keep up to two ` +
        `batched statements in flight, plus lease renewals, the reaper and the sweeper`,
    });
  }

  const as = worker.autoscaling;
  if (as?.enabled && as.minReplicas > as.maxReplicas) {
    issues.push({
      path: "worker.autoscaling.minReplicas",
      message: `worker.autoscaling.minReplicas (${as.minReplicas}) must not exceed worker.autoscaling.maxReplicas (${as.maxReplicas})`,
    });
  }
  if (as?.enabled && (worker.replicas < as.minReplicas || worker.replicas > as.maxReplicas)) {
    issues.push({
      path: "worker.replicas",
      message: `worker.replicas (${worker.replicas}) must lie within worker.autoscaling.minReplicas..maxReplicas (${as.minReplicas}..${as.maxReplicas})`,
    });
  }

  worker.jvm.extraFlags.forEach((flag, i) => {
    if (GC_SELECTORS.test(flag)) {
      issues.push({
        path: `worker.jvm.extraFlags[${i}]`,
        message: `worker.jvm.extraFlags[${i}] (${flag}) selects a collector, but worker.jvm.gc (${worker.jvm.gc}) already does: exactly one GC may be selected`,
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

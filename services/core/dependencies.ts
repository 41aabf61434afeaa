// Opens everything a service process talks to — Postgres pool, Redis, RabbitMQ, the repository,
// the cache and the metrics — and closes it all again. Only Postgres must be up at start:
// Redis and RabbitMQ are reconnected in the background (the API then answers 503 on /readyz,
// and committed jobs wait for the sweeper).

import type { Redis } from "ioredis";
import type pg from "pg";
import { createRedis, JobCache, waitForRedis } from "./cache.js";
import { consumerPrefetch, type ServiceConfig } from "./config.js";
import { createPool } from "./db.js";
import { closeAll, coerceError, withTimeout } from "./errors.js";
import { DependencyWatch } from "./dependency-watch.js";
import { API_REQUIRED, checkReadiness, readinessChecks, WORKER_REQUIRED, type DependencyState, type ReadinessCheck } from "./readiness.js";
import { JobRepository } from "./jobs/repository.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { JobQueue } from "./queue.js";

export interface Dependencies {
  readonly config: ServiceConfig;
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly queue: JobQueue;
  readonly repo: JobRepository;
  readonly cache: JobCache;
  readonly metrics: Metrics;
  /** One check per dependency (postgres, schema, redis, rabbitmq). */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** The dependencies this role needs to be ready: api Postgres + schema; worker also RabbitMQ. */
  readonly readinessRequired: readonly string[];
  /** Background state of every dependency, for liveness and the dependency_up gauge. */
  readonly watch: DependencyWatch;
  /** Checks each dependency with a short timeout (for /readyz). */
  readiness(timeoutMs?: number): Promise<Readiness>;
  /** Closes the queue, Redis and the pool; every failure is reported in one AggregateError. Idempotent. */
  close(): Promise<void>;
}

export interface Readiness {
  readonly ok: boolean;
  readonly postgres: DependencyState;
  readonly schema: DependencyState;
  readonly redis: DependencyState;
  readonly rabbitmq: DependencyState;
}

export interface OpenOptions {
  readonly metrics?: Metrics;
  /** Errors of background reconnects (Redis, RabbitMQ) and of an optional Postgres at start; rate-limit in the caller if logging. */
  readonly onError?: (source: "postgres" | "redis" | "rabbitmq" | "cache", err: Error) => void;
  /** Called when the queue was repaired as a leaderless quorum queue (docs/broker-outages.md); log it. */
  readonly onQueueRepaired?: (queue: string) => void;
  /** How long to wait for RabbitMQ at start before carrying on without it. @default 5000 */
  readonly queueConnectTimeoutMs?: number;
  /**
   * Fail start-up when Postgres is unreachable. The worker can do nothing without it; the API
   * starts anyway so that /healthz answers and /readyz reports the outage (the pool connects
   * lazily and recovers by itself). @default true
   */
  readonly requirePostgres?: boolean;
}

export async function openDependencies(config: ServiceConfig, options: OpenOptions = {}): Promise<Dependencies> {
  const metrics = options.metrics ?? createMetrics({ labels: { service: config.role } });
  const onError = options.onError ?? (() => undefined);
  const pool = createPool({
    databaseUrl: config.databaseUrl,
    dbPoolSize: config.dbPoolSize,
    applicationName: `jobstack-${config.role}`,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  const redis = createRedis(config.redisUrl, (err) => onError("redis", err));
  const queue = new JobQueue({
    url: config.amqpUrl,
    queue: config.jobQueue,
    queueType: config.queueType,
    prefetch: consumerPrefetch(config),
    stepTimeoutMs: config.amqpTimeoutMs,
    repairAfterConsumeTimeouts: config.queueRepairAfterTimeouts,
    maxLength: config.queueMaxLength,
    deadLetterMaxLength: config.deadLetterMaxLength,
    onUnbounded: (_queue, err) => onError("rabbitmq", err),
    onRepaired: () => options.onQueueRepaired?.(config.jobQueue),
    onError: (err) => onError("rabbitmq", err),
    onDeadLetter: (reason) => metrics.deadLettered.inc({ reason }),
  });
  const repo = new JobRepository(pool, {
    onTransition: (from, to) => metrics.transitions.inc({ from: from ?? "none", to }),
    onMarkFailed: (err) => onError("postgres", coerceError(err)),
  });
  const cache = new JobCache(redis, { ttlSeconds: config.cacheTtlSeconds, activeTtlSeconds: config.cacheActiveTtlSeconds, prefix: config.cachePrefix, onError: (err) => onError("cache", err) });

  const checks = readinessChecks(pool, redis, queue);
  const readinessRequired = config.role === "worker" ? WORKER_REQUIRED : API_REQUIRED;
  const watch = new DependencyWatch({
    checks,
    // Liveness follows reachability only: a database that is not migrated yet is a readiness
    // matter, and restarting the process would not migrate it.
    livenessRequired: config.role === "worker" ? ["postgres", "rabbitmq"] : ["postgres"],
    limitMs: config.dependencyLivenessLimitMs,
    gauge: metrics.dependencyUp,
  });

  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= closeAll([
      ["dependency watch", () => watch.stop()],
      ["dispatch marks", () => repo.flushDispatchMarks()],
      ["rabbitmq", () => queue.close()],
      ["redis", () => redis.quit().catch(() => redis.disconnect())],
      ["postgres", () => pool.end()],
    ]));

  try {
    // Postgres is the source of truth: without it a worker is useless, so fail its start-up.
    await withTimeout(pool.query("select 1"), 10_000, "connecting to Postgres");
  } catch (err) {
    if (options.requirePostgres ?? true) {
      await close().catch(() => undefined);
      throw coerceError(err);
    }
    onError("postgres", coerceError(err));
  }
  await waitForRedis(redis, 2_000); // optional: on timeout it keeps reconnecting in the background
  try {
    await queue.connect(options.queueConnectTimeoutMs ?? 5_000);
  } catch (err) {
    onError("rabbitmq", coerceError(err)); // keeps reconnecting in the background
  }

  watch.start();
  const readiness = async (timeoutMs = 1_000): Promise<Readiness> => {
    const { ready, dependencies: d } = await checkReadiness(checks, timeoutMs, readinessRequired);
    watch.observe(d);
    return { ok: ready, postgres: d.postgres!, schema: d.schema!, redis: d.redis!, rabbitmq: d.rabbitmq! };
  };

  return { config, pool, redis, queue, repo, cache, metrics, checks, readinessRequired, watch, readiness, close };
}

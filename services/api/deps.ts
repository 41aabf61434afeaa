/**
 * What the API is built from: core's repository, cache, queue and metrics, plus one readiness
 * check per dependency.
 *
 * `buildApp` receives these rather than opening connections itself, so whoever opens them
 * (`main.ts` through core's `openDependencies`, or a test wiring its own parts) also closes them.
 */
import type { Redis } from "ioredis";
import type pg from "pg";
import type { JobCache } from "../core/cache.js";
import type { Dependencies } from "../core/dependencies.js";
import type { JobRepository } from "../core/jobs/repository.js";
import type { Metrics } from "../core/metrics.js";
import type { JobQueue } from "../core/queue.js";
import type { HandlerRegistry } from "../worker/handlers.js";
import type { DependencyWatch } from "../core/dependency-watch.js";
import { API_REQUIRED, type ReadinessCheck } from "../core/readiness.js";

export interface ApiDeps {
  readonly repo: JobRepository;
  readonly cache: JobCache;
  readonly queue: JobQueue;
  readonly metrics: Metrics;
  /**
   * The worker's handler registry (names and payload parsers; importing it runs no handler).
   * POST /jobs refuses types it does not know and payloads it would refuse to run.
   */
  readonly handlers: Pick<HandlerRegistry, "has" | "types" | "validate">;
  /** One check per dependency, by the name `/readyz` reports it under. */
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** The checks that decide `/readyz`; the others are only reported. @default API_REQUIRED (postgres, schema) */
  readonly readinessRequired?: readonly string[];
  /** Background dependency state: `/healthz` fails once a required one is down too long. Absent: always live. */
  readonly watch?: Pick<DependencyWatch, "liveness" | "observe">;
}

export function apiDepsFrom(deps: Dependencies, handlers: ApiDeps["handlers"]): ApiDeps {
  return {
    handlers,
    repo: deps.repo,
    cache: deps.cache,
    queue: deps.queue,
    metrics: deps.metrics,
    readiness: deps.checks,
    readinessRequired: API_REQUIRED,
    watch: deps.watch,
  };
}

// Prometheus metrics shared by the api and the worker. Each call makes its own Registry (not
// prom-client's global one), so tests and several instances in one process do not collide.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  readonly registry: Registry;
  /** Jobs accepted by POST /jobs, by type (idempotent replays are not counted). */
  readonly jobsSubmitted: Counter<"type">;
  /** Committed state transitions; `from` is "none" for the creation row. */
  readonly transitions: Counter<"from" | "to">;
  /** Wall time of one handler run, by type and outcome (completed | failed | retry | fenced). */
  readonly jobDuration: Histogram<"type" | "outcome">;
  /** HTTP latency of the api, by method, route pattern and status code. */
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  /** Publishes of job messages, by who published (api | sweeper | retry | reaper) and result (ok | error). */
  readonly dispatches: Counter<"source" | "result">;
  /** Messages sent to the dead-letter queue, by reason. */
  readonly deadLettered: Counter<"reason">;
  /** Leases reaped, by what became of the job (PENDING | FAILED). */
  readonly reaped: Counter<"to">;
  /** 1 while a dependency answers, 0 while it does not (postgres, schema, redis, rabbitmq). */
  readonly dependencyUp: Gauge<"dependency">;
}

export interface MetricsOptions {
  /** Node process metrics (heap, event loop lag, GC). @default true */
  readonly defaultMetrics?: boolean;
  /** Added to every series, e.g. { service: "worker" }. */
  readonly labels?: Record<string, string>;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    jobsSubmitted: new Counter({ name: "jobstack_jobs_submitted_total", help: "Jobs accepted", labelNames: ["type"], registers }),
    transitions: new Counter({
      name: "jobstack_job_transitions_total",
      help: "Committed job state transitions",
      labelNames: ["from", "to"],
      registers,
    }),
    jobDuration: new Histogram({
      name: "jobstack_job_duration_seconds",
      help: "Handler run time",
      labelNames: ["type", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    httpDuration: new Histogram({
      name: "jobstack_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    dispatches: new Counter({
      name: "jobstack_dispatches_total",
      help: "Job messages published",
      labelNames: ["source", "result"],
      registers,
    }),
    deadLettered: new Counter({
      name: "jobstack_dead_lettered_total",
      help: "Messages sent to the dead-letter queue",
      labelNames: ["reason"],
      registers,
    }),
    reaped: new Counter({ name: "jobstack_leases_reaped_total", help: "Expired leases reaped", labelNames: ["to"], registers }),
    dependencyUp: new Gauge({
      name: "jobstack_dependency_up",
      help: "1 while the dependency answers its readiness check, 0 while it does not",
      labelNames: ["dependency"],
      registers,
    }),
  };
}

/**
 * The system-wide gauges of the api's `/metrics` (docs/metrics.md): jobs by type and state, the
 * oldest waiting job, the queue's depths and each dependency's state. Every api replica exports
 * the same values (they come from Postgres and RabbitMQ, not from the process), so dashboards and
 * alerts aggregate them with `max`, not `sum`.
 *
 * Collected on scrape from a snapshot at most `maxAgeMs` old (services/api/system-snapshot.ts),
 * so a scrape costs at most one count query however many scrapers there are. A part whose
 * source did not answer has no series in that scrape (an alert sees it absent, never a stale
 * value); `jobstack_dependency_up` says which one.
 */
import { Gauge, type Registry } from "prom-client";
import { JOB_STATES } from "../core/states.js";
import type { SnapshotCache } from "./system-snapshot.js";

/** Names, in one place for the alert rules' test and the dashboard. */
export const SYSTEM_METRICS = {
  jobs: "jobstack_jobs",
  oldestPending: "jobstack_oldest_job_age_seconds",
  ready: "jobstack_queue_messages_ready",
  unacked: "jobstack_queue_messages_unacked",
  deadLettered: "jobstack_queue_messages_dead_lettered",
  consumers: "jobstack_queue_consumers",
  /** Registered by services/core/metrics.ts, not here; named for the alert rules' test. */
  dependencyUp: "jobstack_dependency_up",
} as const;

/** Registers the gauges on `registry` once (a second call for the same registry is a no-op). */
export function registerSystemMetrics(registry: Registry, snapshots: SnapshotCache, maxAgeMs: number): void {
  if (registry.getSingleMetric(SYSTEM_METRICS.jobs)) return;
  const registers = [registry];
  const snapshot = () => snapshots.get(maxAgeMs);

  new Gauge({
    name: SYSTEM_METRICS.jobs,
    help: "Jobs in the database by type and state (system-wide; the same on every api replica)",
    labelNames: ["type", "state"],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (!s.byType) return;
      for (const [type, counts] of Object.entries(s.byType)) {
        for (const state of JOB_STATES) this.set({ type, state }, counts[state]);
      }
    },
  });
  // Labelled by state (only PENDING so far) rather than bare: prom-client always exports a
  // label-less gauge, as 0 after a reset, and a 0 while Postgres is down would read "no backlog".
  new Gauge({
    name: SYSTEM_METRICS.oldestPending,
    help: "Seconds the longest-waiting job of a state has waited; for PENDING, since it became due (0 when none waits)",
    labelNames: ["state"],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s.oldestPendingSeconds !== null) this.set({ state: "PENDING" }, s.oldestPendingSeconds);
    },
  });
  const queueGauge = (name: string, help: string, pick: (q: NonNullable<Awaited<ReturnType<typeof snapshot>>["queue"]>) => { queue: string; value: number }) =>
    new Gauge({
      name,
      help,
      labelNames: ["queue"],
      registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        if (!s.queue) return;
        const { queue, value } = pick(s.queue);
        this.set({ queue }, value);
      },
    });
  queueGauge(SYSTEM_METRICS.ready, "Messages ready for delivery in the job queue (AMQP passive declare)", (q) => ({ queue: q.name, value: q.ready }));
  new Gauge({
    name: SYSTEM_METRICS.unacked,
    help: "Messages delivered to workers and not yet acknowledged (RabbitMQ management API; only with RABBITMQ_MANAGEMENT_URL)",
    labelNames: ["queue"],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      if (s.queue && s.queue.unacked !== null) this.set({ queue: s.queue.name }, s.queue.unacked);
    },
  });
  queueGauge(SYSTEM_METRICS.deadLettered, "Messages in the dead-letter queue", (q) => ({ queue: q.deadLetterQueue, value: q.deadLettered }));
  queueGauge(SYSTEM_METRICS.consumers, "Consumers attached to the job queue (AMQP passive declare)", (q) => ({ queue: q.name, value: q.consumers }));
  // jobstack_dependency_up is core's gauge (services/core/metrics.ts), kept current by the
  // dependency watch in every process, api and worker alike.
}

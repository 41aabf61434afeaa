// Metrics of bounded storage (docs/storage.md), registered beside the shared ones
// (metrics.ts) by both processes: the queue gauges must still answer when every worker is gone.
// Rejected publishes are counted by jobstack_dispatches_total{result="rejected"}.

import { Counter, Gauge, type Registry } from "prom-client";
import type { JobQueue } from "./queue.js";

export interface StorageMetrics {
  /** Jobs deleted by retention, by state. */
  readonly retentionDeleted: Counter<"state">;
  /** Audit partitions dropped whole by retention. */
  readonly partitionsDropped: Counter;
}

export interface StorageMetricsOptions {
  readonly queue?: JobQueue;
  /** The queue bounds (QUEUE_MAX_LENGTH, DEAD_LETTER_MAX_LENGTH), exported so an alert can compare. */
  readonly maxLength?: number;
  readonly deadLetterMaxLength?: number;
}

export function createStorageMetrics(registry: Registry, o: StorageMetricsOptions = {}): StorageMetrics {
  const registers = [registry];
  const queue = o.queue;
  if (queue) {
    new Gauge({
      name: "jobstack_queue_messages",
      help: "Ready messages in the job queue (queue=jobs) and the dead-letter queue (queue=dead), read at scrape time",
      labelNames: ["queue"],
      registers,
      async collect() {
        if (!queue.isConnected()) return;
        try {
          const d = await queue.depth();
          this.set({ queue: "jobs" }, d.ready);
          this.set({ queue: "dead" }, d.dead);
        } catch {
          // Broker gone mid-scrape: the series keeps its last value; readiness reports the outage.
        }
      },
    });
    const limit = new Gauge({
      name: "jobstack_queue_max_messages",
      help: "Length bound of the job queue and the dead-letter queue (0 = unbounded)",
      labelNames: ["queue"],
      registers,
    });
    limit.set({ queue: "jobs" }, o.maxLength ?? 0);
    limit.set({ queue: "dead" }, o.deadLetterMaxLength ?? 0);
  }
  return {
    retentionDeleted: new Counter({
      name: "jobstack_retention_deleted_total",
      help: "Final jobs deleted by retention",
      labelNames: ["state"],
      registers,
    }),
    partitionsDropped: new Counter({ name: "jobstack_audit_partitions_dropped_total", help: "Audit partitions dropped whole", registers }),
  };
}

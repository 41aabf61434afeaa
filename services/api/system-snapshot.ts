/**
 * The system at a glance: jobs by state and by type, the oldest waiting job, the queue's depths
 * and each dependency's state. `GET /jobs/stats` answers with it and the api's `/metrics`
 * gauges are set from it (services/api/system-metrics.ts; docs/metrics.md).
 *
 * Taking one costs a `group by type, state` over the whole jobs table (Postgres picks a
 * parallel sequential scan: 0.36 s at 1,000,000 jobs on this 2-core machine under load,
 * `npm run bench -- --only search`), so callers say how old an answer they accept: the stats
 * route asks for a fresh one, a scrape accepts one up to 15 s old, and concurrent callers share
 * the one being taken (single flight) rather than each starting one.
 */
import type { JobRepository } from "../core/jobs/repository.js";
import type { JobQueue } from "../core/queue.js";
import { withTimeout } from "../core/errors.js";
import { checkReadiness, type DependencyState, type ReadinessCheck } from "../core/readiness.js";
import { JOB_STATES, type JobState } from "../core/states.js";
import type { ManagementReader } from "./rabbitmq-management.js";

export type StateCounts = Record<JobState, number>;

export interface QueueDepths {
  readonly name: string;
  /** Messages ready for delivery (passive declare's message-count). */
  readonly ready: number;
  /**
   * Delivered, not yet acknowledged. AMQP 0-9-1 cannot report it; only RabbitMQ's management
   * plugin can (services/api/rabbitmq-management.ts), so null unless RABBITMQ_MANAGEMENT_URL is
   * set and answered. RUNNING jobs (byState) are the jobs workers hold.
   */
  readonly unacked: number | null;
  /** Consumers attached to the queue (passive declare's consumer-count). */
  readonly consumers: number;
  readonly deadLetterQueue: string;
  /** Messages in the dead-letter queue. */
  readonly deadLettered: number;
}

export interface SystemSnapshot {
  /** When it was taken (ISO 8601). */
  readonly at: string;
  /** Every state, 0 when none; null when Postgres did not answer. */
  readonly byState: StateCounts | null;
  /** Per type, every state. */
  readonly byType: Record<string, StateCounts> | null;
  /** Seconds the longest-waiting due PENDING job has waited; 0 when none waits. */
  readonly oldestPendingSeconds: number | null;
  /** null when RabbitMQ did not answer. */
  readonly queue: QueueDepths | null;
  readonly dependencies: Record<string, DependencyState>;
}

export interface SnapshotSources {
  readonly repo: Pick<JobRepository, "counts">;
  readonly queue: Pick<JobQueue, "inspect" | "queue" | "deadLetterQueue">;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Unacknowledged messages from the management plugin, when configured. */
  readonly management?: ManagementReader | undefined;
  /** Bound on each part. @default 2000 */
  readonly timeoutMs?: number;
}

const zeroCounts = (): StateCounts => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as StateCounts;

export async function takeSnapshot(src: SnapshotSources): Promise<SystemSnapshot> {
  const timeoutMs = src.timeoutMs ?? 2000;
  const [counts, queue, readiness, management] = await Promise.all([
    // A hung dependency costs a scrape at most timeoutMs, and only its own series.
    withTimeout(src.repo.counts(), timeoutMs, "counting jobs").catch(() => null),
    withTimeout(src.queue.inspect(), timeoutMs, "inspecting the queue").catch(() => null),
    checkReadiness(src.readiness, Math.min(timeoutMs, 1000)),
    src.management ? withTimeout(src.management(src.queue.queue), timeoutMs, "asking the management API").catch(() => null) : null,
  ]);
  let byState: StateCounts | null = null;
  let byType: Record<string, StateCounts> | null = null;
  if (counts) {
    byState = zeroCounts();
    byType = {};
    for (const { type, state, count } of counts.byTypeAndState) {
      byState[state] += count;
      (byType[type] ??= zeroCounts())[state] += count;
    }
  }
  return {
    at: new Date().toISOString(),
    byState,
    byType,
    oldestPendingSeconds: counts ? counts.oldestPendingSeconds : null,
    queue: queue && {
      name: src.queue.queue,
      ready: queue.ready,
      unacked: management?.unacked ?? null,
      consumers: queue.consumers,
      deadLetterQueue: src.queue.deadLetterQueue,
      deadLettered: queue.deadLettered,
    },
    dependencies: readiness.dependencies,
  };
}

/** Snapshots shared between callers: one in flight at a time, reused while young enough. */
export class SnapshotCache {
  private last: { snapshot: SystemSnapshot; takenAt: number } | null = null;
  private inFlight: Promise<SystemSnapshot> | null = null;

  constructor(private readonly take: () => Promise<SystemSnapshot>) {}

  /** A snapshot taken at most `maxAgeMs` ago (0: one that started after this call, or the one in flight). */
  async get(maxAgeMs: number): Promise<SystemSnapshot> {
    if (this.last && Date.now() - this.last.takenAt <= maxAgeMs && maxAgeMs > 0) return this.last.snapshot;
    if (this.inFlight) return this.inFlight;
    const startedAt = Date.now();
    this.inFlight = this.take()
      .then((snapshot) => {
        this.last = { snapshot, takenAt: startedAt };
        return snapshot;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }
}

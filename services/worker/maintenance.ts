// The reaper and the sweeper, run by every worker on jittered timers. Both are safe with many
// workers at once: the repository selects their rows with `for update skip locked`.
//   reaper:  RUNNING jobs whose lease expired → PENDING (dispatched again here) or FAILED.
//   sweeper: PENDING jobs whose dispatch the broker never confirmed → published again (also
//            the jobs a full job queue refused: docs/storage.md).
//   retention: final jobs past retention deleted in small batches, audit partitions created
//            ahead and dropped whole when expired (core/jobs/retention.ts), cache entries of
//            deleted jobs removed.

import { dispatchJob, dispatchResult } from "../core/dispatch.js";
import { coerceError } from "../core/errors.js";
import type { JobRetention } from "../core/jobs/retention.js";
import { isPublishRejected } from "../core/queue-topology.js";
import type { StorageMetrics } from "../core/storage-metrics.js";
import type { JobCache } from "../core/cache.js";
import type { JobRepository } from "../core/jobs/repository.js";
import type { Logger } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import type { JobQueue } from "../core/queue.js";

export interface MaintenanceOptions {
  readonly workerId: string;
  readonly repo: JobRepository;
  readonly queue: JobQueue;
  readonly cache?: JobCache;
  readonly metrics?: Metrics;
  readonly log?: Logger;
  readonly reaperIntervalMs: number;
  readonly sweeperIntervalMs: number;
  /** How long a due PENDING job may stay undispatched before the sweeper sends it. */
  readonly sweepAfterMs: number;
  /** Re-send PENDING jobs whose confirmed dispatch is older than this; 0 = never. */
  readonly redispatchAfterMs?: number;
  /** Deletes expired jobs and audit partitions; none = keep everything. */
  readonly retention?: JobRetention;
  /** @default 60000 */
  readonly retentionIntervalMs?: number;
  readonly storageMetrics?: StorageMetrics;
}

/** Jobs one sweeper transaction locks and publishes. */
const SWEEP_BATCH = 100;
/** Batches one sweeper pass may send back to back while every publish is accepted. */
const SWEEP_BATCHES_PER_PASS = 50;

export class Maintenance {
  private timers = new Set<NodeJS.Timeout>();
  private running = new Set<Promise<unknown>>();
  private stopped = true;
  private handledRepairAt: number | null = null;
  /** Set by stop(): a retention pass in progress ends after its current batch. */
  private halting = false;

  constructor(private readonly o: MaintenanceOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halting = false;
    this.schedule(() => this.reapOnce(), this.o.reaperIntervalMs);
    this.schedule(() => this.sweepOnce(), this.o.sweeperIntervalMs);
    if (this.o.retention) this.schedule(() => this.retainOnce(), this.o.retentionIntervalMs ?? 60_000);
  }

  /** Stops the timers and waits for a pass in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halting = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  /** One reaper pass; returns how many leases it reaped. */
  async reapOnce(): Promise<number> {
    const reaped = await this.o.repo.reapExpired(this.o.workerId);
    for (const job of reaped) {
      this.o.metrics?.reaped.inc({ to: job.state });
      this.o.log?.warn({ jobId: job.id, to: job.state }, "reaped an expired lease");
      await this.o.cache?.put(job);
      if (job.state === "PENDING" && this.o.queue.isConnected()) {
        const r = await dispatchJob(this.o.queue, this.o.repo, job);
        this.o.metrics?.dispatches.inc({ source: "reaper", result: dispatchResult(r) });
      }
    }
    return reaped.length;
  }

  /**
   * One sweeper pass; returns how many jobs it dispatched. Skipped while the broker is
   * unreachable. A full batch that went out without a refusal is followed by another (up to
   * SWEEP_BATCHES_PER_PASS), so a backlog the full queue refused while the workers were gone is
   * sent at queue speed once it drains, not at 100 jobs per interval (docs/storage.md).
   */
  async sweepOnce(): Promise<number> {
    if (!this.o.queue.isConnected()) return 0;
    await this.redispatchAfterRepair();
    let total = 0;
    for (let i = 0; i < SWEEP_BATCHES_PER_PASS && !this.halting; i++) {
      const { sent, more } = await this.sweepBatch();
      total += sent;
      if (!more) break;
    }
    return total;
  }

  private async sweepBatch(): Promise<{ sent: number; more: boolean }> {
    if (!this.o.queue.isConnected()) return { sent: 0, more: false };
    const { dispatched, failed } = await this.o.repo.sweepUndispatched(
      (job) => this.o.queue.publish(job.id),
      this.o.sweepAfterMs,
      SWEEP_BATCH,
      this.o.redispatchAfterMs ? this.o.redispatchAfterMs : null,
    );
    if (dispatched.length > 0) {
      this.o.metrics?.dispatches.inc({ source: "sweeper", result: "ok" }, dispatched.length);
      this.o.log?.info({ count: dispatched.length }, "swept undispatched jobs");
    }
    const rejected = failed.filter((f) => isPublishRejected(f.error)).length;
    if (rejected > 0) this.o.metrics?.dispatches.inc({ source: "sweeper", result: "rejected" }, rejected);
    if (failed.length > rejected) this.o.metrics?.dispatches.inc({ source: "sweeper", result: "error" }, failed.length - rejected);
    return { sent: dispatched.length, more: dispatched.length === SWEEP_BATCH && failed.length === 0 };
  }

  /**
   * After this worker repaired a leaderless queue (docs/broker-outages.md), the messages of
   * every job dispatched before the repair may be gone with the broker's lost queue member: send
   * them all again now instead of waiting REDISPATCH_AFTER_MS. A duplicate costs one dropped
   * message (the claim refuses it).
   */
  private async redispatchAfterRepair(): Promise<void> {
    const at = this.o.queue.lastRepairAt;
    if (at === null || at === this.handledRepairAt) return;
    const batch = 100;
    let total = 0;
    for (;;) {
      // Dispatched before the repair started; the ones re-stamped by this loop are newer.
      const olderThanMs = Math.max(1, Date.now() - at);
      const { dispatched, failed } = await this.o.repo.sweepUndispatched((job) => this.o.queue.publish(job.id), this.o.sweepAfterMs, batch, olderThanMs);
      total += dispatched.length;
      if (failed.length > 0) throw new Error(`re-dispatch after the queue repair: ${failed.length} publish(es) failed; the next pass retries`);
      if (dispatched.length < batch) break;
    }
    this.handledRepairAt = at;
    if (total > 0) {
      this.o.metrics?.dispatches.inc({ source: "repair", result: "ok" }, total);
      this.o.log?.warn({ count: total }, "re-dispatched the jobs whose messages the repaired queue lost");
    }
  }

  /**
   * One retention pass: partitions first (create ahead, drop expired), then the batched
   * deletion of expired jobs and their cache entries. Returns how many jobs it deleted.
   */
  async retainOnce(): Promise<number> {
    const retention = this.o.retention;
    if (!retention) return 0;
    const { created, dropped } = await retention.maintainPartitions();
    if (created.length > 0) this.o.log?.info({ partitions: created }, "created audit partitions");
    if (dropped.dropped.length > 0) {
      this.o.storageMetrics?.partitionsDropped.inc(dropped.dropped.length);
      this.o.log?.info({ partitions: dropped.dropped, survivorsMoved: dropped.survivorsMoved }, "dropped expired audit partitions");
    }
    const deleted = await retention.deleteExpired(
      async (ids, state) => {
        this.o.storageMetrics?.retentionDeleted.inc({ state }, ids.length);
        await this.o.cache?.deleteMany(ids);
      },
      () => this.halting,
    );
    if (deleted > 0) this.o.log?.info({ count: deleted }, "deleted jobs past retention");
    return deleted;
  }

  private schedule(pass: () => Promise<unknown>, intervalMs: number): void {
    if (this.stopped) return;
    // ±25 % jitter keeps a fleet of workers from sweeping in lockstep.
    const t = setTimeout(() => {
      this.timers.delete(t);
      const run = pass()
        .catch((err) => this.o.log?.warn({ err: coerceError(err) }, "maintenance pass failed; next pass retries"))
        .finally(() => {
          this.running.delete(run);
          this.schedule(pass, intervalMs);
        });
      this.running.add(run);
    }, intervalMs * (0.75 + Math.random() * 0.5));
    this.timers.add(t);
  }
}

// The leases of every job a worker holds (claimed: waiting for a handler slot or running), kept
// alive by one renewal statement per tick for all of them (JobRepository.renewLeases), instead
// of one statement per job per tick. With claim ahead a worker holds several times its
// concurrency; with short leases the per-job statements alone kept a small pool busy (the
// stalled-worker chaos test failed under load: bench/results/throughput-notes.md).
//
// A tick comes every third of the lease, as the per-job timers did. Renewals never overlap: a
// tick that finds the previous renewal still running is skipped (the one running renews every
// lease it was given, and the next tick comes well before any of them runs out). A failed
// statement is logged and retried at the next tick; a lease the database no longer holds under
// its claim (reaped, maybe taken over) is reported once through its `onLost`, and dropped.

import { coerceError } from "../core/errors.js";
import type { JobRepository } from "../core/jobs/repository.js";
import type { HeldLease } from "../core/jobs/types.js";
import type { Logger } from "../core/logger.js";

export interface LeaseKeeperOptions {
  readonly leaseMs: number;
  readonly repo: Pick<JobRepository, "renewLeases">;
  readonly log?: Logger;
  /** Time between renewals. @default a third of leaseMs, at least 50 ms */
  readonly intervalMs?: number;
  /** Leases per statement; a keeper holding more renews them in several, one after another. @default 2000 */
  readonly chunkSize?: number;
}

interface Kept {
  readonly lease: HeldLease;
  readonly onLost: () => void;
}

export class LeaseKeeper {
  /** By job id: a job is held under one claim at a time (see add). */
  private readonly kept = new Map<string, Kept>();
  private readonly intervalMs: number;
  private readonly chunkSize: number;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;

  constructor(private readonly o: LeaseKeeperOptions) {
    this.intervalMs = o.intervalMs ?? Math.max(50, Math.floor(o.leaseMs / 3));
    this.chunkSize = Math.max(1, o.chunkSize ?? 2_000);
  }

  /** Leases kept now. */
  get size(): number {
    return this.kept.size;
  }

  /**
   * Keeps `lease` renewed until remove(lease). `onLost` runs at most once, when a renewal finds
   * the claim no longer current; the lease is no longer kept after that.
   */
  add(lease: HeldLease, onLost: () => void): void {
    const key = lease.id.toLowerCase();
    const other = this.kept.get(key);
    // The same job under two claims (reaped while its renewals failed, then claimed here again):
    // claims only grow, so the lower one is stale already. It is lost, without asking.
    if (other && other.lease.claim > lease.claim) return onLost();
    this.kept.set(key, { lease: { id: lease.id, claim: lease.claim }, onLost });
    if (other && other.lease.claim < lease.claim) other.onLost();
    // The timer runs only while there is something to renew; unref'd, it never keeps a process up.
    if (this.timer === null) {
      this.timer = setInterval(() => void this.renewAll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Stops renewing `lease` (its handler returned, or it was handed back). Harmless when not kept. */
  remove(lease: HeldLease): void {
    const key = lease.id.toLowerCase();
    // Only this claim's: a newer claim of the same job stays kept.
    if (this.kept.get(key)?.lease.claim === lease.claim) this.kept.delete(key);
    if (this.kept.size === 0) this.clearTimer();
  }

  /**
   * Renews every kept lease now, in one statement per `chunkSize` leases. While a renewal runs,
   * a second call gets the running one instead of starting another.
   */
  renewAll(): Promise<void> {
    this.renewing ??= this.renewKept().finally(() => (this.renewing = null));
    return this.renewing;
  }

  /** Keeps nothing any more and stops the timer; resolves once a renewal in flight has finished. */
  async stop(): Promise<void> {
    this.kept.clear();
    this.clearTimer();
    await this.renewing;
  }

  private async renewKept(): Promise<void> {
    const all = [...this.kept.values()];
    for (let i = 0; i < all.length; i += this.chunkSize) {
      const chunk = all.slice(i, i + this.chunkSize);
      let held: Set<string>;
      try {
        held = await this.o.repo.renewLeases(chunk.map((k) => k.lease), this.o.leaseMs);
      } catch (err) {
        // Nothing is known about these leases: keep them, the next tick tries again.
        this.o.log?.warn({ leases: chunk.length, err: coerceError(err) }, "lease renewal failed; retrying");
        continue;
      }
      for (const k of chunk) {
        if (held.has(k.lease.id)) continue;
        // Removed while the statement ran (its handler returned, its outcome may have committed
        // already): not lost, just no longer ours to keep.
        if (this.kept.get(k.lease.id.toLowerCase()) !== k) continue;
        this.remove(k.lease);
        k.onLost();
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

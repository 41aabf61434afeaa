// The consume loop: for each message, claim the job (PENDING → RUNNING with a lease and a new
// claim number), run its handler while renewing the lease, and record the outcome with the
// claim as fencing token. Messages for jobs that are not claimable are acked and dropped.
// Delivery is at least once; the recorded outcome is exactly once.

import { dispatchJob, dispatchResult } from "../core/dispatch.js";
import { coerceError, isRetryableError } from "../core/errors.js";
import type { JobCache } from "../core/cache.js";
import type { JobRepository } from "../core/jobs/repository.js";
import type { JobRetention } from "../core/jobs/retention.js";
import type { StorageMetrics } from "../core/storage-metrics.js";
import type { Job, TransitionOutcome } from "../core/jobs/types.js";
import type { Logger } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import type { Disposition, JobQueue } from "../core/queue.js";
import { retryDelayMs } from "./backoff.js";
import { HandlerError, type HandlerRegistry } from "./handlers.js";
import { Maintenance } from "./maintenance.js";

export interface WorkerOptions {
  readonly workerId: string;
  readonly leaseMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly reaperIntervalMs: number;
  readonly sweeperIntervalMs: number;
  readonly sweepAfterMs: number;
  /** Re-send PENDING jobs whose confirmed dispatch is older than this; 0 = never. @default 0 */
  readonly redispatchAfterMs?: number;
  /** Retention pass of the maintenance loop (docs/storage.md); none = keep everything. */
  readonly retention?: JobRetention;
  /** @default 60000 */
  readonly retentionIntervalMs?: number;
  readonly storageMetrics?: StorageMetrics;
  /** How long drain() waits for in-flight jobs before releasing them. */
  readonly shutdownTimeoutMs: number;
  readonly repo: JobRepository;
  readonly queue: JobQueue;
  readonly cache: JobCache;
  readonly registry: HandlerRegistry;
  readonly metrics?: Metrics;
  readonly log?: Logger;
}

interface InFlight {
  readonly job: Job;
  readonly abort: AbortController;
  readonly done: Promise<void>;
  /** Set when drain() handed the job back; the run must not record an outcome. */
  released: boolean;
}

export interface DrainResult {
  readonly finished: number;
  readonly released: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Worker {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly maintenance: Maintenance;
  private draining = false;
  private started = false;

  constructor(private readonly o: WorkerOptions) {
    this.maintenance = new Maintenance({
      workerId: o.workerId,
      repo: o.repo,
      queue: o.queue,
      cache: o.cache,
      reaperIntervalMs: o.reaperIntervalMs,
      sweeperIntervalMs: o.sweeperIntervalMs,
      sweepAfterMs: o.sweepAfterMs,
      redispatchAfterMs: o.redispatchAfterMs ?? 0,
      ...(o.retention ? { retention: o.retention, retentionIntervalMs: o.retentionIntervalMs ?? 60_000 } : {}),
      ...(o.storageMetrics ? { storageMetrics: o.storageMetrics } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.o.queue.consume((jobId) => this.handle(jobId));
    this.maintenance.start();
  }

  /**
   * Graceful stop: consume no more, give in-flight jobs `shutdownTimeoutMs` to finish, then
   * release the rest (RUNNING → PENDING under their claim, so no attempt is used up) and abort
   * their handlers. Unacked messages return to the queue when the channel closes.
   */
  async drain(): Promise<DrainResult> {
    this.draining = true;
    await this.o.queue.stopConsuming();
    await this.maintenance.stop();
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    const before = this.inFlight.size;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()].map((f) => f.done)),
      new Promise((r) => (timer = setTimeout(r, this.o.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
    const left = [...this.inFlight.values()];
    for (const f of left) {
      f.released = true;
      f.abort.abort(new Error("worker is shutting down"));
      try {
        const r = await this.o.repo.release(f.job.id, f.job.claim, this.o.workerId);
        if (r.ok) await this.o.cache.put(r.job);
      } catch (err) {
        // The lease expires and the reaper returns the job instead.
        this.o.log?.warn({ jobId: f.job.id, err: coerceError(err) }, "release failed; the reaper will take the job back");
      }
    }
    return { finished: before - left.length, released: left.length };
  }

  /** Handles one message. Exposed for tests; the queue calls it. */
  async handle(jobId: string): Promise<Disposition> {
    if (this.draining) return "requeue";
    let claimed;
    try {
      claimed = await this.o.repo.claim(jobId, this.o.workerId, this.o.leaseMs);
    } catch (err) {
      const e = coerceError(err);
      this.o.log?.warn({ jobId, err: e }, "claim failed");
      // Nothing was claimed, so the message must not be lost: requeue it (the queue waits a
      // moment first). Dropping it would strand the job until REDISPATCH_AFTER_MS, since its
      // dispatch is already recorded.
      this.o.metrics?.dispatches.inc({ source: "requeue", result: isRetryableError(e) ? "transient" : "error" });
      return "requeue";
    }
    if (!claimed.ok) {
      // Duplicate, redelivered or early message: someone else has (or had) the job — or
      // retention deleted it (not_found): acked and dropped the same way.
      this.o.log?.debug({ jobId, code: claimed.code, reason: claimed.message }, "message dropped");
      return "ack";
    }
    // The RUNNING entry is written while the handler starts: the handler does not need it, and
    // run() waits for it before writing the outcome, so the cache sees the two writes in order.
    const cached = this.o.cache.put(claimed.job);
    let markDone!: () => void;
    const flight: InFlight = { job: claimed.job, abort: new AbortController(), done: new Promise((r) => (markDone = r)), released: false };
    this.inFlight.set(jobId, flight);
    try {
      await this.run(flight, cached);
    } finally {
      this.inFlight.delete(jobId);
      markDone();
    }
    return "ack";
  }

  private async run(flight: InFlight, cached: Promise<unknown>): Promise<void> {
    const { job } = flight;
    const started = process.hrtime.bigint();
    const renew = setInterval(() => void this.renew(flight), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    let result: unknown;
    let failure: unknown = null;
    try {
      const handler = this.o.registry.get(job.type);
      if (!handler) throw new HandlerError(`no handler is registered for job type "${job.type}"`, false);
      let payload: unknown = job.payload;
      if (handler.parse) {
        try {
          payload = handler.parse(job.payload);
        } catch (err) {
          throw new HandlerError(`invalid payload: ${coerceError(err).message}`, false);
        }
      }
      result = await handler.run(payload, {
        jobId: job.id,
        claim: job.claim,
        attempt: job.attempts,
        maxAttempts: job.maxAttempts,
        workerId: this.o.workerId,
        signal: flight.abort.signal,
        ...(this.o.log ? { log: this.o.log.child({ jobId: job.id, claim: job.claim }) } : {}),
      });
    } catch (err) {
      failure = err ?? new Error("handler threw a nullish value");
    } finally {
      clearInterval(renew);
    }
    await cached; // never rejects: JobCache.put reports failures as null
    if (flight.released) return;

    let outcome: TransitionOutcome | null;
    if (failure === null) {
      outcome = await this.persist(job, () => this.o.repo.complete(job.id, job.claim, this.o.workerId, result ?? null));
    } else {
      const retryable = failure instanceof HandlerError ? failure.retryable : true;
      const delay = retryDelayMs(job.attempts, { baseMs: this.o.retryBaseMs, maxMs: this.o.retryMaxMs });
      outcome = await this.persist(job, () =>
        this.o.repo.fail(job.id, job.claim, this.o.workerId, { error: failure, retryable, retryDelayMs: delay }),
      );
      if (outcome?.ok && outcome.job.state === "PENDING") this.scheduleRetry(outcome.job, delay);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const label = outcome === null ? "unrecorded" : !outcome.ok ? "fenced" : outcome.job.state === "PENDING" ? "retry" : outcome.job.state.toLowerCase();
    this.o.metrics?.jobDuration.observe({ type: job.type, outcome: label }, seconds);
    if (outcome?.ok) await this.o.cache.put(outcome.job);
    else if (outcome) this.o.log?.warn({ jobId: job.id, claim: job.claim, reason: outcome.message }, "outcome refused by the fencing check");
  }

  /**
   * Records an outcome, retrying transient database errors a few times. If it still fails the
   * lease runs out and the reaper retries the job: at least once, never lost.
   */
  private async persist(job: Job, write: () => Promise<TransitionOutcome>): Promise<TransitionOutcome | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        const e = coerceError(err);
        if (attempt >= 5 || !isRetryableError(e)) {
          this.o.log?.error({ jobId: job.id, err: e }, "could not record the outcome; the lease will expire and the job be retried");
          return null;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  private async renew(flight: InFlight): Promise<void> {
    try {
      const held = await this.o.repo.renewLease(flight.job.id, flight.job.claim, this.o.leaseMs);
      if (!held && !flight.abort.signal.aborted) {
        // Reaped and possibly taken over: stop the handler; its outcome would be refused anyway.
        this.o.log?.warn({ jobId: flight.job.id, claim: flight.job.claim }, "lease lost");
        flight.abort.abort(new Error("lease lost"));
      }
    } catch (err) {
      this.o.log?.warn({ jobId: flight.job.id, err: coerceError(err) }, "lease renewal failed; retrying");
    }
  }

  /** Publishes the retry when it is due; if this worker dies first, the sweeper does it. */
  private scheduleRetry(job: Job, delayMs: number): void {
    if (this.draining) return;
    const t = setTimeout(async () => {
      this.retryTimers.delete(t);
      try {
        // Ask the database clock: publishing before run_after would get the message dropped.
        const wait = await this.o.repo.msUntilDue(job.id);
        if (wait > 0) return this.scheduleRetry(job, wait);
        const r = await dispatchJob(this.o.queue, this.o.repo, job);
        this.o.metrics?.dispatches.inc({ source: "retry", result: dispatchResult(r) });
      } catch (err) {
        this.o.log?.warn({ jobId: job.id, err: coerceError(err) }, "retry dispatch failed; the sweeper will send it");
      }
    }, delayMs);
    t.unref();
    this.retryTimers.add(t);
  }
}

// The consume loop: for each message, claim the job (PENDING → RUNNING with a lease and a new
// claim number), run its handler while renewing the lease, and record the outcome with the
// claim as fencing token. Messages for jobs that are not claimable are acked and dropped.
// Delivery is at least once; the recorded outcome is exactly once.
//
// Claim ahead: the broker hands a worker more messages (WORKER_PREFETCH, by default 4 ×
// WORKER_CONCURRENCY) than it runs handlers (`concurrency`). Their claims go out at once, batched
// with their neighbours (services/core/batch.ts), and the claimed jobs wait for a handler slot
// (./slots.ts) with their leases renewed from the claim on; so a job's claim commit is off the
// handler's critical path, and a handler's slot is free again as soon as it returns, while its
// outcome commits. Every lease the worker holds is renewed by one statement per tick (./leases.ts).

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
import { HandlerError, silentLogger, type HandlerLogger, type HandlerRegistry } from "../handlers/index.js";
import { LeaseKeeper } from "./leases.js";
import { Maintenance } from "./maintenance.js";
import { deferRunningEntry, type RunningEntry } from "./running-entry.js";
import { HandlerSlots, type FreeSlot } from "./slots.js";

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
  /**
   * A job whose type this worker has no handler for is handed back (PENDING, the attempt given
   * back) and claimable again after this long: during a rolling deploy the api may know a type
   * before every worker does. @default 30000
   */
  readonly unknownTypeRetryMs?: number;
  /**
   * …until the job is this old (since submission): then it fails permanently, saying no worker
   * has the type, instead of circling forever. @default 86400000 (24 h)
   */
  readonly unknownTypeFailAfterMs?: number;
  /** Retention pass of the maintenance loop (docs/storage.md); none = keep everything. */
  readonly retention?: JobRetention;
  /** @default 60000 */
  readonly retentionIntervalMs?: number;
  readonly storageMetrics?: StorageMetrics;
  /** How long drain() waits for in-flight jobs before releasing them. */
  readonly shutdownTimeoutMs: number;
  /**
   * Handlers running at once; claimed jobs beyond it wait for a slot. The queue's prefetch bounds
   * how many jobs are claimed (waiting, running, or recording their outcome): in the services 4 ×
   * this by default (consumerPrefetch, services/core/config.ts). @default unlimited
   */
  readonly concurrency?: number;
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
  /** Set when the job is handed back (handBack); the run must not record an outcome. */
  released: boolean;
  /** The release, once asked for: drain() and the job's own handle() may both ask. */
  handingBack: Promise<void> | null;
  /** Set once the handler was given a slot; drain() hands back the jobs still waiting at once. */
  started: boolean;
}

/** A job claimed for one message and registered in inFlight, its lease kept. */
interface Claimed {
  readonly flight: InFlight;
  /** The RUNNING entry's cache write, deferred (./running-entry.ts). */
  readonly running: RunningEntry;
  /** Resolves flight.done. */
  readonly markDone: () => void;
}

export interface DrainResult {
  readonly finished: number;
  readonly released: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Worker {
  private readonly inFlight = new Map<string, InFlight>();
  /** Claims sent and not yet landed (claimJob); drain() waits for them. */
  private readonly claiming = new Set<Promise<Claimed | Disposition>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly maintenance: Maintenance;
  private readonly slots: HandlerSlots;
  private readonly leases: LeaseKeeper;
  private draining = false;
  private started = false;

  constructor(private readonly o: WorkerOptions) {
    this.slots = new HandlerSlots(o.concurrency ?? Number.POSITIVE_INFINITY);
    this.leases = new LeaseKeeper({ leaseMs: o.leaseMs, repo: o.repo, ...(o.log ? { log: o.log } : {}) });
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
    // Claims sent before the drain began commit after it: wait for them, so that every job this
    // worker holds is in inFlight below. Otherwise such a job was handed back (if at all) after
    // the drain, by when a stopping worker has closed its pool: it stayed RUNNING until its lease
    // ran out, and its retry used up an attempt. With claim ahead a batch of claims is often in
    // flight (the graceful-shutdown chaos test).
    await Promise.allSettled([...this.claiming]);
    const before = this.inFlight.size;
    // Claimed ahead and not started: hand them back now, for another worker to run.
    const waiting = [...this.inFlight.values()].filter((f) => !f.started);
    this.slots.cancelWaiting();
    await Promise.all(waiting.map((f) => this.handBack(f)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()].filter((f) => !f.released).map((f) => f.done)),
      new Promise((r) => (timer = setTimeout(r, this.o.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
    const left = [...this.inFlight.values()].filter((f) => !f.released);
    await Promise.all(left.map((f) => this.handBack(f)));
    // Every job held is finished or handed back: no lease left to keep.
    await this.leases.stop();
    const released = waiting.length + left.length;
    return { finished: before - released, released };
  }

  /** Hands the job back (releaseJob) once, whoever asks first: drain() or the job's own handle(). */
  private handBack(f: InFlight): Promise<void> {
    f.released = true;
    f.handingBack ??= this.releaseJob(f);
    return f.handingBack;
  }

  /** RUNNING → PENDING under the job's claim (no attempt used up); its handler, if any, is aborted. */
  private async releaseJob(f: InFlight): Promise<void> {
    // Handed back: the lease is no longer this worker's to keep, whether the release commits or
    // (it failed) the lease runs out for the reaper.
    this.leases.remove(f.job);
    f.abort.abort(new Error("worker is shutting down"));
    try {
      const r = await this.o.repo.release(f.job.id, f.job.claim, this.o.workerId);
      if (r.ok) await this.o.cache.put(r.job);
    } catch (err) {
      // The lease expires and the reaper returns the job instead.
      this.o.log?.warn({ jobId: f.job.id, err: coerceError(err) }, "release failed; the reaper will take the job back");
    }
  }

  /** Handles one message. Exposed for tests; the queue calls it. */
  async handle(jobId: string): Promise<Disposition> {
    if (this.draining) return "requeue";
    const claiming = this.claimJob(jobId);
    this.claiming.add(claiming);
    let claimed: Claimed | Disposition;
    try {
      claimed = await claiming;
    } finally {
      this.claiming.delete(claiming);
    }
    return typeof claimed === "string" ? claimed : this.runClaimed(claimed);
  }

  /**
   * Claims the job of one message and registers it in inFlight with its lease kept; or, when
   * there is nothing to run here, settles it and answers the message's disposition.
   */
  private async claimJob(jobId: string): Promise<Claimed | Disposition> {
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
      if (claimed.code === "not_found") {
        // No such job: a message this system never sent (forged, or another system's on a shared
        // broker), or one for a job retention already deleted (docs/storage.md).
        // Nothing to run; say so where an operator looks.
        this.o.log?.warn({ jobId, reason: claimed.message }, "message for an unknown job dropped");
        return "ack";
      }
      // Duplicate, redelivered or early message: someone else has (or had) the job.
      this.o.log?.debug({ jobId, code: claimed.code, reason: claimed.message }, "message dropped");
      return "ack";
    }
    if (!this.o.registry.has(claimed.job.type)) {
      await this.handBackUnknown(claimed.job);
      return "ack";
    }
    // Due → claimed, both instants by the database clock (the claim's updated_at is its commit's now()).
    const waited = (Date.parse(claimed.job.updatedAt) - Date.parse(claimed.job.runAfter)) / 1000;
    this.o.metrics?.queueWait.observe({ type: claimed.job.type }, Math.max(0, waited));
    // The RUNNING entry is written only if the job is still here a moment from now
    // (./running-entry.ts); the outcome's cache write is chained after it (run's tail), so the
    // cache sees the two in order.
    const running = deferRunningEntry(this.o.cache, claimed.job);
    let markDone!: () => void;
    const flight: InFlight = {
      job: claimed.job,
      abort: new AbortController(),
      done: new Promise((r) => (markDone = r)),
      released: false,
      handingBack: null,
      started: false,
    };
    this.inFlight.set(flight.job.id, flight);
    // The lease is renewed from the claim on: a job waiting for a handler slot must keep it too.
    this.leases.add(flight.job, () => this.leaseLost(flight));
    return { flight, running, markDone };
  }

  /** Waits for a handler slot, runs the job and records its outcome (or hands it back when draining). */
  private async runClaimed({ flight, running, markDone }: Claimed): Promise<Disposition> {
    const { job } = flight;
    let tail: Promise<unknown> | null = null;
    let free: FreeSlot | null = null;
    let disposition: Disposition = "ack";
    try {
      free = this.draining ? null : await this.slots.acquire();
      if (free === null || flight.released) {
        // Turned away by drain() while waiting, or claimed as drain began: handed back unstarted,
        // the message goes back to the queue for another worker.
        await this.handBack(flight);
        disposition = "requeue";
      } else if (flight.abort.signal.aborted) {
        // The lease was lost while the job waited (reaped): its outcome would be refused anyway.
        this.o.log?.warn({ jobId: job.id, claim: job.claim }, "lease lost before the handler started");
      } else {
        flight.started = true;
        ({ tail } = await this.run(flight, running, () => {
          this.leases.remove(job);
          free?.();
        }));
      }
    } finally {
      this.leases.remove(job);
      free?.();
      // The message is acked as soon as the outcome is committed; the outcome's cache write (the
      // tail: versioned, so it can never regress a newer entry, and it never rejects) finishes
      // meanwhile, and only then does the job leave inFlight (drain waits for it).
      void (tail ?? running.settle()).finally(() => {
        // A retry of the same job may already be claimed here again: remove only this run.
        if (this.inFlight.get(job.id) === flight) this.inFlight.delete(job.id);
        markDone();
      });
    }
    return disposition;
  }

  /**
   * Runs the claimed job and records its outcome; resolves to the outcome's cache write (see
   * handle). `handlerDone` runs as soon as the handler returns: it stops renewing the lease and
   * frees the handler slot while the outcome commits.
   */
  private async run(flight: InFlight, running: RunningEntry, handlerDone: () => void): Promise<{ readonly tail: Promise<unknown> }> {
    const { job } = flight;
    const started = process.hrtime.bigint();
    let result: unknown;
    let failure: unknown = null;
    try {
      const handler = this.o.registry.get(job.type);
      if (!handler) throw new HandlerError(`no handler is registered for job type "${job.type}"`, false);
      // The same check and the same text as the api's 400: a bad payload that got in some other
      // way (an older api, a direct insert) fails permanently with the reason.
      const checked = this.o.registry.validate(job.type, job.payload);
      if (!checked.ok) throw new HandlerError(checked.message, false);
      // The job's child logger is made only for a handler that logs: most never do, and a
      // child per job showed in the worker's CPU profile.
      const parent = this.o.log;
      let logger: HandlerLogger | undefined;
      const jobLogger = () => (logger ??= parent ? parent.child({ jobId: job.id, claim: job.claim, type: job.type }) : silentLogger);
      result = await handler.run(checked.payload, {
        jobId: job.id,
        claim: job.claim,
        attempt: job.attempts,
        maxAttempts: job.maxAttempts,
        workerId: this.o.workerId,
        signal: flight.abort.signal,
        get logger() {
          return jobLogger();
        },
        get log() {
          return jobLogger();
        },
      });
    } catch (err) {
      failure = err ?? new Error("handler threw a nullish value");
    } finally {
      handlerDone();
    }
    // The RUNNING entry's write, if it started (it never rejects: JobCache.put reports failures
    // as null), is not waited for here: the outcome's commit does not depend on it, and the
    // outcome's cache write is chained after it (the tail), so the cache still sees the two in order.
    const cached = running.settle();
    if (flight.released) return { tail: cached };

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
    if (outcome?.ok) {
      const settled = outcome.job;
      return { tail: cached.then(() => this.o.cache.put(settled)) };
    }
    if (outcome) this.o.log?.warn({ jobId: job.id, claim: job.claim, reason: outcome.message }, "outcome refused by the fencing check");
    return { tail: cached };
  }

  /**
   * A claimed job of a type this worker does not know (rolling deploy: the api, or another
   * worker, already has a newer handler set). Hand it back for later without using up an
   * attempt; once it is older than unknownTypeFailAfterMs, fail it permanently with the reason.
   * Either way nothing is lost and the audit log says what happened.
   */
  private async handBackUnknown(job: Job): Promise<void> {
    const failAfter = this.o.unknownTypeFailAfterMs ?? 86_400_000;
    const retryMs = this.o.unknownTypeRetryMs ?? 30_000;
    const age = Date.now() - Date.parse(job.createdAt);
    const known = this.o.registry.types().join(", ");
    let outcome: TransitionOutcome | null;
    if (age >= failAfter) {
      const error = new HandlerError(
        `no worker has a handler for job type "${job.type}": still unknown ${Math.round(age / 1000)} s after submission (UNKNOWN_TYPE_FAIL_AFTER_MS ${failAfter}); this worker knows: ${known}`,
        false,
      );
      outcome = await this.persist(job, () => this.o.repo.fail(job.id, job.claim, this.o.workerId, { error, retryable: false }));
    } else {
      const reason = `no handler for job type "${job.type}" on this worker (it knows: ${known}); handed back, due again in ${retryMs} ms`;
      outcome = await this.persist(job, () => this.o.repo.defer(job.id, job.claim, this.o.workerId, retryMs, reason));
      if (outcome?.ok) this.scheduleRetry(outcome.job, retryMs);
    }
    this.o.log?.warn({ jobId: job.id, type: job.type, to: outcome?.ok ? outcome.job.state : null }, "job type unknown to this worker");
    this.o.metrics?.jobDuration.observe({ type: job.type, outcome: "unknown_type" }, 0);
    if (outcome?.ok) await this.o.cache.put(outcome.job);
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

  /** A renewal found the job's claim gone (./leases.ts). */
  private leaseLost(flight: InFlight): void {
    if (flight.abort.signal.aborted) return;
    // Reaped and possibly taken over: stop the handler; its outcome would be refused anyway.
    this.o.log?.warn({ jobId: flight.job.id, claim: flight.job.claim }, "lease lost");
    flight.abort.abort(new Error("lease lost"));
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

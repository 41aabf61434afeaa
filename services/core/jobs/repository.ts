// The job repository: every state change is one transaction that locks the job row
// (`select … for update`), checks the move against the state machine and the claim (fencing
// token), updates the row and appends to job_transitions, then commits. Nothing else writes jobs.
//
// The repository is a thin front over the operations (operations/*.ts: each one's SQL, statement
// name, parameters and row mapping in one definition). Two ways to run a transition, the same
// guarantees:
// - the moves (operations/move.ts: claim, complete, cancel, release, defer, manual retry): one
//   statement that locks, checks against the from-states computed from TRANSITIONS (and the
//   claim when fenced), updates and audits; a single statement is its own transaction. Moves
//   that arrive while one is in flight share the next statement (services/core/batch.ts), each
//   job still locked, checked, updated and audited inside it; submissions (insert + audit row)
//   and dispatch marks are batched the same way.
// - the settlements (operations/fail.ts: a handler's failure, the reaper): begin, lock, plan in
//   TypeScript from the locked row, check canTransition, update + audit, commit — for plans that
//   depend on the row (attempts left, reasons quoting them) that SQL would have to duplicate.
//   Off the hot path of a job that works.
//
// Evidence (`npm run bench -- --only jobs --quick`: noop, 300 jobs, 2 workers × 8, 32 enqueues
// in flight, 2-core VM; CPU per job from /proc; the first line re-ran the previous code side by
// side, in the same machine state):
//   lock + plan + write everywhere, BEGIN/COMMIT round trips, 13 statements in 4 transactions
//     per job, unnamed statements:          HTTP 151 jobs/s, 12.4 ms CPU/job (Postgres 4.4)
//   one statement per move, named:          HTTP 174 jobs/s,  9.8 ms CPU/job (Postgres 2.5)
//   + batched submissions and marks:        HTTP 244 jobs/s,  7.6 ms CPU/job (Postgres 1.6)
//   + batched moves:                        HTTP 238–248 jobs/s, 7.6–7.9 ms (Postgres 1.4–1.8);
//                                           direct path 3.8–4.2 ms (Postgres 1.2–1.5)
// Named prepared statements alone (API + 1 worker, 1,500 jobs, 32 in flight, the same code with
// and without `name`): Postgres 1.6–1.9 ms CPU per job with names, 2.5–2.9 ms without.

import { isDeepStrictEqual } from "node:util";
import type pg from "pg";
import { Batcher } from "../batch.js";
import { RollbackFailedError, withTransaction } from "../db.js";
import { canTransition, explainTransition, type JobState } from "../states.js";
import { uuidv7 } from "../uuid.js";
import { run, type Operation, type Queryable } from "./operation.js";
import * as op from "./operations/index.js";
import { json, rowToJob, type JobRow } from "./rows.js";
import { countByTypeAndState, oldestPendingAge, searchStatement, type JobFilter, type Keyset } from "./search.js";
import type {
  ClaimOutcome,
  FailInput,
  HeldLease,
  Job,
  SubmitInput,
  SubmitResult,
  Transition,
  TransitionListener,
  TransitionOutcome,
} from "./types.js";

export { errorToJson, rowToJob } from "./rows.js";

export interface JobRepositoryOptions {
  /** Called after each committed transition, e.g. to count it in metrics. */
  readonly onTransition?: TransitionListener;
  /** A background dispatch mark (markDispatchedSoon) failed even alone; the sweeper covers the job. */
  readonly onMarkFailed?: (err: unknown) => void;
  /** @default 3 */
  readonly defaultMaxAttempts?: number;
}

/** The answer of submitBatch: every item stored (in request order), or nothing stored. */
export type SubmitBatchResult =
  | { readonly ok: true; readonly results: readonly SubmitResult[] }
  | {
      readonly ok: false;
      /** Items whose idempotency key was first used for a different request; nothing was stored. */
      readonly conflicts: readonly { readonly index: number; readonly job: Job; readonly fields: readonly string[] }[];
    };

/**
 * The fields in which `input` differs from the job its idempotency key was first used for: a key
 * reused for a different request is a client bug (the caller would believe a second job exists).
 * Payload compares as submitted (`{}` when absent); maxAttempts only when the request names it.
 */
export function idempotencyConflicts(job: Job, input: Pick<SubmitInput, "type" | "payload" | "maxAttempts">): string[] {
  return [
    job.type !== input.type && "type",
    !isDeepStrictEqual(job.payload, input.payload ?? {}) && "payload",
    input.maxAttempts !== undefined && job.maxAttempts !== input.maxAttempts && "maxAttempts",
  ].filter((f): f is string => f !== false);
}

/**
 * How long a background dispatch mark waits for others to share its statement. Far below
 * SWEEP_AFTER_MS (10 s by default), so the sweeper never takes a lingering mark's job for lost.
 */
export const MARK_LINGER_MS = 50;

/** Batch key: a statement holds each job at most once, so each job's row in its result is its own. */
const byJob = (item: { readonly id: string }): string => item.id.toLowerCase();

export class JobRepository {
  private readonly onTransition: TransitionListener | undefined;
  private readonly onMarkFailed: (err: unknown) => void;
  private readonly defaultMaxAttempts: number;
  /**
   * Dispatch marks and submissions are group-committed (services/core/batch.ts): one statement
   * per batch of whatever arrived while the previous one was in flight. Each job's insert and
   * its audit row stay in one statement; a failed batch of submissions is retried item by item,
   * so one bad submission never fails another; so is a failed batch of marks.
   */
  private readonly marks = this.batcher(op.markDispatched, op.markDispatchedMany, byJob);
  /**
   * The same marks off the publisher's path (markDispatchedSoon): nobody waits for them, so a
   * batch lingers MARK_LINGER_MS for more to join, and a job claimed meanwhile costs its mark
   * no write at all (the statement matches PENDING jobs only).
   */
  private readonly lazyMarks = this.batcher(op.markDispatched, op.markDispatchedMany, byJob, MARK_LINGER_MS);
  private readonly inserts = this.batcher(op.submitJob, op.submitJobs);
  /**
   * One batcher per move: a batch is one move statement. A batch never holds one job twice
   * (`key`), so each job's row in the result is its own; a failed batch (e.g. a deadlock with a
   * concurrent fail or reap, which lock one row each) is retried job by job.
   */
  private readonly movers = Object.fromEntries(
    Object.values(op.MOVES).map((m) => [m.op, this.batcher(m.one, m.many, byJob)]),
  ) as Record<op.MoveName, Batcher<op.MoveInput, op.MovedRow | null>>;

  constructor(
    private readonly pool: pg.Pool,
    options: JobRepositoryOptions = {},
  ) {
    this.onTransition = options.onTransition;
    this.onMarkFailed = options.onMarkFailed ?? (() => undefined);
    this.defaultMaxAttempts = options.defaultMaxAttempts ?? 3;
  }

  /** Creates a PENDING job (audited), or returns the job first submitted with the same idempotency key. */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    const key = input.idempotencyKey ?? null;
    // Insert and audit row in one statement (one transaction, one round trip), batched.
    const job = await this.inserts.run(this.newJob(input));
    if (!job) {
      // The key was used before (the conflicting insert has committed: `on conflict` waited for
      // it); that job is the answer, never a second one.
      return { job: (await run(this.pool, op.getJobByIdempotencyKey, key))!, created: false };
    }
    this.notify(null, "PENDING", job);
    return { job, created: true };
  }

  /**
   * Submits up to a few thousand jobs all-or-nothing, in one transaction: one statement inserts
   * every new job with its audit row; an item whose idempotency key was used before (earlier, or
   * by an earlier item of the same batch) answers that job, unless it differs from it (see
   * idempotencyConflicts): then nothing of the batch is stored and the conflicts are returned.
   */
  async submitBatch(inputs: readonly SubmitInput[]): Promise<SubmitBatchResult> {
    const items = inputs.map((i) => this.newJob(i));
    const outcome = await withTransaction(this.pool, async (client): Promise<SubmitBatchResult> => {
      const created = await run(client, op.submitJobs, items);
      const replayedKeys = items.flatMap((j, i) => (created[i] === null && j.key !== null ? [j.key] : []));
      const existing = replayedKeys.length > 0 ? await run(client, op.getJobsByIdempotencyKeys, replayedKeys) : new Map<string, Job>();
      const results: SubmitResult[] = [];
      const conflicts: { index: number; job: Job; fields: string[] }[] = [];
      items.forEach((j, i) => {
        const job = created[i] ?? existing.get(j.key!);
        if (!job) throw new Error(`internal: job ${j.id} was neither inserted nor found by its key`);
        if (created[i] === null) {
          const fields = idempotencyConflicts(job, inputs[i]!);
          if (fields.length > 0) conflicts.push({ index: i, job, fields });
        }
        results.push({ job, created: created[i] !== null });
      });
      if (conflicts.length > 0) throw new BatchRefused(conflicts);
      return { ok: true, results };
    }).catch((err: unknown) => {
      const refused = err instanceof RollbackFailedError ? err.failure : err; // the conflicts stand: nothing was committed
      if (refused instanceof BatchRefused) return { ok: false as const, conflicts: refused.conflicts };
      throw err;
    });
    if (outcome.ok) for (const r of outcome.results) if (r.created) this.notify(null, "PENDING", r.job);
    return outcome;
  }

  async get(id: string): Promise<Job | null> {
    return run(this.pool, op.getJob, id);
  }

  /** The audit log of one job, oldest first; empty when the job does not exist. */
  async transitions(id: string): Promise<Transition[]> {
    return run(this.pool, op.listTransitions, id);
  }

  /**
   * Records that the broker confirmed a message for the job's current PENDING spell. `claim`
   * is the claim number the publisher saw (0 for a new job): a mark that arrives after the job
   * was claimed and re-queued must not hide the new spell from the sweeper. Returns false
   * when it no longer applies.
   */
  markDispatched(id: string, claim = 0): Promise<boolean> {
    return this.marks.run({ id, claim });
  }

  /**
   * markDispatched in the background, batched with others after a short linger: the mark is a
   * hint for the sweeper (a job whose mark is late or lost is published again after
   * SWEEP_AFTER_MS, and the duplicate message is dropped at its claim), so no publisher needs
   * to wait for its commit. A failure goes to `onMarkFailed`. Call flushDispatchMarks() before
   * closing the pool.
   */
  markDispatchedSoon(id: string, claim = 0): void {
    this.lazyMarks.run({ id, claim }).catch((err: unknown) => this.onMarkFailed(err));
  }

  /** Writes every dispatch mark still lingering (markDispatchedSoon); resolves when all have settled. */
  flushDispatchMarks(): Promise<void> {
    return this.lazyMarks.flush();
  }

  /** PENDING → CANCELLED. */
  async cancel(id: string, reason = "cancelled"): Promise<TransitionOutcome> {
    return this.moveOne(op.MOVES.cancel, { id, claim: null, workerId: null, reason, leaseMs: null, result: null });
  }

  /** FAILED → PENDING by an operator: attempts reset, audited as a manual retry. */
  async retry(id: string, reason = "manual retry"): Promise<TransitionOutcome> {
    return this.moveOne(op.MOVES.retry, { id, claim: null, workerId: null, reason, leaseMs: null, result: null });
  }

  /**
   * PENDING → RUNNING: takes a lease and the next claim number (the fencing token). A job still
   * in retry backoff is refused as not_due and its dispatch is forgotten, so the sweeper sends it
   * again when it is due instead of the early message being lost.
   */
  async claim(id: string, workerId: string, leaseMs: number): Promise<ClaimOutcome> {
    const r = await this.moveOne(op.MOVES.claim, { id, claim: null, workerId, reason: `claimed by ${workerId}`, leaseMs, result: null });
    if (r.notDue) {
      await run(this.pool, op.clearDispatch, id);
      return { ok: false, code: "not_due", state: "PENDING", message: `job is in retry backoff until ${r.notDue}` };
    }
    return r;
  }

  /** Extends the lease; false when `claim` is no longer the current one (stop working on it). */
  async renewLease(id: string, claim: number, leaseMs: number): Promise<boolean> {
    return run(this.pool, op.renewLease, { id, claim, leaseMs });
  }

  /**
   * Extends every lease of `held` in one statement; resolves to the ids whose claim is still
   * current. An id missing from the answer lost its lease (stop working on it).
   */
  async renewLeases(held: readonly HeldLease[], leaseMs: number): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    return run(this.pool, op.renewLeases, { held, leaseMs });
  }

  /** RUNNING → COMPLETED, only for the current claim. */
  async complete(id: string, claim: number, workerId: string, result: unknown): Promise<TransitionOutcome> {
    return this.moveOne(op.MOVES.complete, { id, claim, workerId, reason: "completed", leaseMs: null, result: json(result) });
  }

  /**
   * For the current claim: RUNNING → PENDING (retryable, attempts remain; claimable again after
   * retryDelayMs) or RUNNING → FAILED (permanent, or the last attempt).
   */
  async fail(id: string, claim: number, workerId: string, input: FailInput): Promise<TransitionOutcome> {
    const outcome = await withTransaction(this.pool, async (client): Promise<TransitionOutcome & { from?: JobState }> => {
      const job = await run(client, op.lockJob, id);
      if (!job) return { ok: false, code: "not_found", message: `job ${id} does not exist` };
      const plan = op.planFailure(job, claim, workerId, input);
      if (typeof plan === "string") return { ok: false, code: "conflict", state: job.state, message: plan };
      return this.settle(client, job, plan);
    });
    if (!outcome.ok) return outcome;
    this.notify(outcome.from ?? null, outcome.job.state, outcome.job);
    return { ok: true, job: outcome.job };
  }

  /**
   * RUNNING → PENDING for the current claim without using up the attempt: a draining worker
   * hands the job back unfinished.
   */
  async release(id: string, claim: number, workerId: string, reason = "released by a stopping worker"): Promise<TransitionOutcome> {
    return this.moveOne(op.MOVES.release, { id, claim, workerId, reason, leaseMs: null, result: null });
  }

  /**
   * RUNNING → PENDING for the current claim without using up the attempt, claimable again after
   * `delayMs`: a worker without a handler for the job's type hands it back to one that has it.
   */
  async defer(id: string, claim: number, workerId: string, delayMs: number, reason: string): Promise<TransitionOutcome> {
    return this.moveOne(op.MOVES.defer, { id, claim, workerId, reason, leaseMs: Math.max(0, Math.round(delayMs)), result: null });
  }

  /**
   * Returns RUNNING jobs whose lease expired to PENDING (attempts remain) or FAILED, one
   * transaction per job, at most `limit`. Safe with several reapers: `skip locked`.
   * Returns the jobs as they are now, so the caller can dispatch the PENDING ones.
   */
  async reapExpired(workerId: string | null, limit = 100): Promise<Job[]> {
    const reaped: Job[] = [];
    for (let i = 0; i < limit; i++) {
      const next = await withTransaction(this.pool, async (client) => {
        const job = await run(client, op.lockOneExpired, undefined);
        if (!job) return null;
        const settled = await this.settle(client, job, op.planReap(job, workerId));
        return settled.ok ? { from: job.state, job: settled.job } : null;
      });
      if (!next) break;
      this.notify(next.from, next.job.state, next.job);
      reaped.push(next.job);
    }
    return reaped;
  }

  /** PENDING jobs due for `olderThanMs` whose dispatch was never confirmed (no locks; inspection). */
  async findUndispatched(olderThanMs = 0, limit = 100): Promise<Job[]> {
    return run(this.pool, op.findUndispatched, { olderThanMs, limit });
  }

  /**
   * The sweeper: locks up to `limit` undispatched PENDING jobs (skipping rows another sweeper
   * holds), publishes each, and stamps those the broker confirmed — all in one transaction, so
   * two workers never sweep the same job at once. A job whose publish failed stays undispatched.
   */
  async sweepUndispatched(
    publish: (job: Job) => Promise<void>,
    olderThanMs: number,
    limit = 100,
    /** Also re-send PENDING jobs dispatched longer ago than this and never claimed; null = off. */
    redispatchAfterMs: number | null = null,
  ): Promise<{ dispatched: Job[]; failed: { job: Job; error: unknown }[] }> {
    return withTransaction(this.pool, async (client) => {
      const jobs = await run(client, op.lockUndispatched, { olderThanMs, limit, redispatchAfterMs });
      const settled = await Promise.allSettled(jobs.map((job) => publish(job)));
      const dispatched: Job[] = [];
      const failed: { job: Job; error: unknown }[] = [];
      settled.forEach((s, i) => (s.status === "fulfilled" ? dispatched.push(jobs[i]!) : failed.push({ job: jobs[i]!, error: s.reason })));
      if (dispatched.length > 0) await run(client, op.stampDispatched, dispatched.map((j) => j.id));
      return { dispatched, failed };
    });
  }

  /**
   * Jobs matching `filter`, newest first (created_at, then id), at most `limit`, after `after`.
   * `next` is the keyset of the last row when the page is full (there may be more), else null.
   */
  async search(filter: JobFilter, after: Keyset | null, limit: number): Promise<{ jobs: Job[]; next: Keyset | null }> {
    const { text, values } = searchStatement(filter, after, limit);
    const { rows } = await this.pool.query<JobRow & { created_us: string }>(text, values);
    const last = rows.at(-1);
    return {
      jobs: rows.map(rowToJob),
      next: rows.length === limit && last ? { createdAtMicros: last.created_us, id: last.id } : null,
    };
  }

  /**
   * The bulk actions: FAILED → PENDING (`retry`, attempts reset) or PENDING → CANCELLED
   * (`cancel`) for every job matching `filter` at the time its chunk is read. The filter's
   * states are replaced by the operation's own source state. One pass, newest first, in chunks
   * of `chunkSize`: each chunk is one move statement (operations/move.ts) (each job locked, re-checked against
   * the state machine, updated and audited with `reason`), and `onMoved` receives the chunk's
   * moved jobs after its commit (cache, dispatch). A job that changed state between the read
   * and the lock is skipped; a job moved back into the source state during the pass (a retried
   * job failing again) is behind the keyset and not moved twice. Not one transaction: on an
   * error the chunks already committed stay moved (each audited). Returns how many moved.
   */
  async moveMatching(
    action: "retry" | "cancel",
    filter: Omit<JobFilter, "states">,
    reason: string,
    onMoved: (jobs: Job[]) => Promise<void>,
    chunkSize = 1000,
  ): Promise<number> {
    const m = op.MOVES[action];
    let after: Keyset | null = null;
    let moved = 0;
    for (;;) {
      const { text, values } = searchStatement({ ...filter, states: m.from }, after, chunkSize, "id, created_at");
      const { rows } = await this.pool.query<{ id: string; created_us: string }>(text, values);
      if (rows.length === 0) break;
      const inputs = rows.map((r): op.MoveInput => ({ id: r.id, claim: null, workerId: null, reason, leaseMs: null, result: null }));
      const movedRows = await run(this.pool, m.many, inputs);
      const jobs: Job[] = [];
      for (const row of movedRows) {
        if (row === null || row.id === null) continue;
        const job = rowToJob(row as JobRow);
        this.notify(row.from_state, job.state, job);
        jobs.push(job);
      }
      moved += jobs.length;
      if (jobs.length > 0) await onMoved(jobs);
      if (rows.length < chunkSize) break;
      const last = rows.at(-1)!;
      after = { createdAtMicros: last.created_us, id: last.id };
    }
    return moved;
  }

  /** Jobs by type and state (every pair present), and how long the oldest due PENDING job has waited. */
  async counts(): Promise<{ byTypeAndState: { type: string; state: JobState; count: number }[]; oldestPendingSeconds: number }> {
    const [counts, oldest] = await Promise.all([
      this.pool.query<{ type: string; state: JobState; n: string }>(countByTypeAndState),
      this.pool.query<{ seconds: number }>(oldestPendingAge),
    ]);
    return {
      byTypeAndState: counts.rows.map((r) => ({ type: r.type, state: r.state, count: Number(r.n) })),
      oldestPendingSeconds: oldest.rows[0]?.seconds ?? 0,
    };
  }

  /** Milliseconds until the job is claimable, by the database clock (0 when due). */
  async msUntilDue(id: string): Promise<number> {
    return run(this.pool, op.msUntilDue, id);
  }

  /**
   * One move in one statement (operations/move.ts), batched with others of its kind: lock, check
   * the from-state and the claim when fenced, write, audit — atomic, its own transaction.
   * `notDue` is set (to run_after) when a claim found the job in retry backoff.
   */
  private async moveOne(m: op.Move, input: op.MoveInput): Promise<op.MoveOutcome> {
    const r = m.outcome(await this.movers[m.op].run(input), input);
    if (r.ok) {
      this.notify(r.from ?? null, r.job.state, r.job);
      return { ok: true, job: r.job };
    }
    return r;
  }

  /** A group-committed operation: one item alone, several in the batched form's one statement. */
  private batcher<I, O>(one: Operation<I, O>, many: Operation<readonly I[], O[]>, key?: (item: I) => string, lingerMs = 0): Batcher<I, O> {
    return new Batcher<I, O>({
      one: (item) => run(this.pool, one, item),
      many: (items) => run(this.pool, many, items),
      isolateFailures: true,
      lingerMs,
      ...(key && { key }),
    });
  }

  /** Writes a settlement inside the caller's transaction, after the state machine's check. */
  private async settle(client: Queryable, job: Job, plan: op.Settlement): Promise<TransitionOutcome & { from?: JobState }> {
    if (!canTransition(job.state, plan.to)) {
      return { ok: false, code: "conflict", state: job.state, message: explainTransition(job.state, plan.to)! };
    }
    return { ok: true, job: await run(client, op.updateJobAndAudit, { job, plan }), from: job.state };
  }

  private notify(from: JobState | null, to: JobState, job: Job): void {
    try {
      this.onTransition?.(from, to, job);
    } catch {
      // A metrics hook must never turn a committed transition into a reported failure.
    }
  }

  /** A submission's row: a fresh UUIDv7 unless the input fixes the id. */
  private newJob(input: SubmitInput): op.NewJob {
    return {
      id: input.id ?? uuidv7(),
      type: input.type,
      // Absent is `{}`, as the api submits it and as idempotencyConflicts compares it: a
      // re-submission without a payload is the same request, not a conflict.
      payload: JSON.stringify(input.payload ?? {}),
      maxAttempts: input.maxAttempts ?? this.defaultMaxAttempts,
      key: input.idempotencyKey ?? null,
    };
  }
}

/** Thrown inside submitBatch's transaction to roll it back when an item's key conflicts. */
class BatchRefused extends Error {
  constructor(readonly conflicts: { index: number; job: Job; fields: string[] }[]) {
    super("idempotency keys reused for different requests");
  }
}

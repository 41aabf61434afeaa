// The job repository: every state change is one transaction that locks the job row
// (`select … for update`), checks the move against the state machine and the claim (fencing
// token), updates the row and appends to job_transitions, then commits. Nothing else writes jobs.
//
// Two ways to run that transaction, the same guarantees:
// - `moveOne` (claim, complete, cancel, release, manual retry): one statement
//   (queries.moveJob) that locks, checks against the from-states computed here from TRANSITIONS
//   (and the claim when fenced), updates and audits; a single statement is its own transaction.
//   Moves that arrive while one is in flight share the next statement (services/core/batch.ts),
//   each job still locked, checked, updated and audited inside it; submissions (insert + audit
//   row) and dispatch marks are batched the same way.
// - `move` (fail, and the reaper): begin, lock, plan in TypeScript from the locked row, check
//   canTransition, update + audit, commit — for plans that depend on the row (attempts left,
//   reasons quoting them) that SQL would have to duplicate. Off the hot path of a job that works.
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

import type pg from "pg";
import { Batcher } from "../batch.js";
import { withTransaction } from "../db.js";
import { canTransition, explainTransition, sourcesOf, type JobState } from "../states.js";
import { uuidv7 } from "../uuid.js";
import * as q from "./queries.js";
import { countByTypeAndState, oldestPendingAge, searchStatement, type JobFilter, type Keyset } from "./search.js";
import type {
  ClaimOutcome,
  FailInput,
  Job,
  SubmitInput,
  SubmitResult,
  Transition,
  TransitionListener,
  TransitionOutcome,
} from "./types.js";

interface JobRow {
  id: string;
  type: string;
  state: JobState;
  payload: unknown;
  result: unknown;
  error: unknown;
  attempts: number;
  max_attempts: number;
  idempotency_key: string | null;
  claim: string | number;
  locked_by: string | null;
  lease_expires_at: Date | null;
  run_after: Date;
  dispatched_at: Date | null;
  version: string | number;
  created_at: Date;
  updated_at: Date;
  not_due?: boolean;
}

/** A row of queries.moveJob: the state the job was locked in, and the new row when it moved. */
type MovedRow = Omit<JobRow, "id"> & {
  locked_id: string;
  id: string | null;
  from_state: JobState;
  from_claim: string | number;
  from_locked_by: string | null;
  from_run_after: Date;
  not_due: boolean;
};

/** What the lock saw, for the refusal's message. */
interface Held {
  readonly state: JobState;
  readonly claim: number;
  readonly lockedBy: string | null;
  readonly runAfter: string;
}

/**
 * A one-statement transition: its SQL, its prepared-statement name, the from-states the state
 * machine allows for this operation (TRANSITIONS ∩ the operation's own rule) and its refusal.
 */
interface FastMove {
  readonly op: keyof typeof q.MOVES;
  /** Prepared-statement name. */
  readonly name: string;
  /** queries.moveJob for one job, and for a batch. */
  readonly one: string;
  readonly many: string;
  readonly to: JobState;
  readonly from: readonly JobState[];
  /** Claims: refuse a job still in retry backoff. */
  readonly mustBeDue: boolean;
  readonly refuse: (held: Held, claim: number | null) => string;
}

/** One job's part of a moveJob statement (see its parameters). */
interface MoveInput {
  readonly id: string;
  readonly claim: number | null;
  readonly workerId: string | null;
  readonly reason: string;
  readonly leaseMs: number | null;
  /** JSON text. */
  readonly result: string | null;
}

/**
 * Builds a FastMove. `from` is what TRANSITIONS allows into `to` (sourcesOf), narrowed to the
 * states the operation applies to; SQL receives that list and never decides on its own.
 */
function fast(op: keyof typeof q.MOVES, to: JobState, operationFrom: readonly JobState[], refuse: FastMove["refuse"]): FastMove {
  return {
    op,
    name: `jobstack_${op}`,
    one: q.moveJob(q.MOVES[op], false),
    many: q.moveJob(q.MOVES[op], true),
    to,
    from: sourcesOf(to).filter((s) => operationFrom.includes(s)),
    mustBeDue: op === "claim",
    refuse,
  };
}

const FAST = {
  claim: fast("claim", "RUNNING", ["PENDING"], (held) => explainTransition(held.state, "RUNNING") ?? `job is ${held.state}`),
  complete: fast("complete", "COMPLETED", ["RUNNING"], (held, claim) => fence(held, claim!, "COMPLETED")!.refuse),
  cancel: fast("cancel", "CANCELLED", ["PENDING"], (held) => explainOrOnly(held.state, "CANCELLED", "only a PENDING job can be cancelled")),
  release: fast("release", "PENDING", ["RUNNING"], (held, claim) => fence(held, claim!, "PENDING")!.refuse),
  retry: fast("retry", "PENDING", ["FAILED"], (held) => explainOrOnly(held.state, "PENDING", "only a FAILED job can be retried")),
} as const;

interface TransitionRow {
  seq: string | number;
  from_state: JobState | null;
  to_state: JobState;
  at: Date;
  worker_id: string | null;
  attempt: number;
  claim: string | number;
  reason: string | null;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    payload: row.payload,
    result: row.result ?? null,
    error: row.error ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: Number(row.version),
    claim: Number(row.claim),
    idempotencyKey: row.idempotency_key,
    lockedBy: row.locked_by,
    leaseExpiresAt: iso(row.lease_expires_at),
    runAfter: row.run_after.toISOString(),
    dispatchedAt: iso(row.dispatched_at),
  };
}

function rowToTransition(row: TransitionRow): Transition {
  return {
    seq: Number(row.seq),
    from: row.from_state,
    to: row.to_state,
    at: row.at.toISOString(),
    workerId: row.worker_id,
    attempt: row.attempt,
    claim: Number(row.claim),
    reason: row.reason,
  };
}

/** What a transition writes. Omitted fields keep their value; see queries.updateJob. */
interface Plan {
  readonly to: JobState;
  readonly reason: string;
  readonly workerId: string | null;
  readonly attempts?: number;
  readonly claim?: number;
  readonly lockedBy?: string | null;
  /** null clears the lease. @default null */
  readonly leaseMs?: number | null;
  /** Delay until claimable; undefined keeps run_after. */
  readonly runAfterMs?: number;
  /** Forget the dispatch so the sweeper publishes again (every return to PENDING). */
  readonly clearDispatch?: boolean;
  readonly result?: unknown;
  readonly error?: unknown;
}

type Refusal = { readonly refuse: string };
type Planner = (job: Job) => Plan | Refusal;

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

/** Normalises a handler's error into the JSON stored in jobs.error. */
export function errorToJson(err: unknown): { message: string; name?: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  if (typeof err === "string") return { message: err };
  if (err && typeof err === "object" && typeof (err as { message?: unknown }).message === "string") {
    return err as { message: string };
  }
  return { message: String(err) };
}

export interface JobRepositoryOptions {
  /** Called after each committed transition, e.g. to count it in metrics. */
  readonly onTransition?: TransitionListener;
  /** @default 3 */
  readonly defaultMaxAttempts?: number;
}

/** One job to insert: the parameters of queries.submitJob. */
interface NewJob {
  readonly id: string;
  readonly type: string;
  readonly payload: string;
  readonly maxAttempts: number;
  readonly key: string | null;
}

export class JobRepository {
  private readonly onTransition: TransitionListener | undefined;
  private readonly defaultMaxAttempts: number;
  /**
   * Dispatch marks and submissions are group-committed (services/core/batch.ts): one statement
   * per batch of whatever arrived while the previous one was in flight. Each job's insert and
   * its audit row stay in one statement; a failed batch of submissions is retried item by item,
   * so one bad submission never fails another; so is a failed batch of marks.
   */
  private readonly marks = new Batcher<{ id: string; claim: number }, boolean>({
    one: async ({ id, claim }) => {
      const { rowCount } = await this.pool.query({ name: "jobstack_mark_dispatched", text: q.markDispatched, values: [id, claim] });
      return (rowCount ?? 0) > 0;
    },
    many: async (items) => {
      const { rows } = await this.pool.query<{ id: string; claim: string }>({
        name: "jobstack_mark_dispatched_many",
        text: q.markDispatchedMany,
        values: [items.map((m) => m.id), items.map((m) => m.claim)],
      });
      const marked = new Set(rows.map((r) => `${r.id}/${r.claim}`));
      return items.map((m) => marked.has(`${m.id.toLowerCase()}/${m.claim}`));
    },
    isolateFailures: true,
  });
  /** One batcher per one-statement transition: a batch is one moveJob statement. */
  private readonly movers = Object.fromEntries(
    Object.entries(FAST).map(([op, m]) => [op, this.mover(m)]),
  ) as Record<keyof typeof FAST, Batcher<MoveInput, MovedRow | null>>;
  private readonly inserts = new Batcher<NewJob, JobRow | null>({
    one: async (j) => {
      const { rows } = await this.pool.query<JobRow>({
        name: "jobstack_submit",
        text: q.submitJob,
        values: [j.id, j.type, j.payload, j.maxAttempts, j.key],
      });
      return rows[0] ?? null;
    },
    many: async (items) => {
      const { rows } = await this.pool.query<JobRow>({
        name: "jobstack_submit_many",
        text: q.submitJobs,
        values: [items.map((j) => j.id), items.map((j) => j.type), items.map((j) => j.payload), items.map((j) => j.maxAttempts), items.map((j) => j.key)],
      });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return items.map((j) => byId.get(j.id.toLowerCase()) ?? null);
    },
    isolateFailures: true,
  });

  constructor(
    private readonly pool: pg.Pool,
    options: JobRepositoryOptions = {},
  ) {
    this.onTransition = options.onTransition;
    this.defaultMaxAttempts = options.defaultMaxAttempts ?? 3;
  }

  /** Creates a PENDING job (audited), or returns the job first submitted with the same idempotency key. */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    const id = input.id ?? uuidv7();
    const key = input.idempotencyKey ?? null;
    // Insert and audit row in one statement (one transaction, one round trip), batched.
    const row = await this.inserts.run({
      id,
      type: input.type,
      payload: JSON.stringify(input.payload ?? null),
      maxAttempts: input.maxAttempts ?? this.defaultMaxAttempts,
      key,
    });
    if (!row) {
      // The key was used before (the conflicting insert has committed: `on conflict` waited for
      // it); that job is the answer, never a second one.
      const existing = await this.pool.query<JobRow>(q.getJobByIdempotencyKey, [key]);
      return { job: rowToJob(existing.rows[0]!), created: false };
    }
    const job = rowToJob(row);
    this.notify(null, "PENDING", job);
    return { job, created: true };
  }

  async get(id: string): Promise<Job | null> {
    const { rows } = await this.pool.query<JobRow>({ name: "jobstack_get", text: q.getJob, values: [id] });
    return rows[0] ? rowToJob(rows[0]) : null;
  }

  /** The audit log of one job, oldest first; empty when the job does not exist. */
  async transitions(id: string): Promise<Transition[]> {
    const { rows } = await this.pool.query<TransitionRow>(q.listTransitions, [id]);
    return rows.map(rowToTransition);
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

  /** PENDING → CANCELLED. */
  async cancel(id: string, reason = "cancelled"): Promise<TransitionOutcome> {
    return this.moveOne(FAST.cancel, { id, claim: null, workerId: null, reason, leaseMs: null, result: null });
  }

  /** FAILED → PENDING by an operator: attempts reset, audited as a manual retry. */
  async retry(id: string, reason = "manual retry"): Promise<TransitionOutcome> {
    return this.moveOne(FAST.retry, { id, claim: null, workerId: null, reason, leaseMs: null, result: null });
  }

  /**
   * PENDING → RUNNING: takes a lease and the next claim number (the fencing token). A job still
   * in retry backoff is refused as not_due and its dispatch is forgotten, so the sweeper sends it
   * again when it is due instead of the early message being lost.
   */
  async claim(id: string, workerId: string, leaseMs: number): Promise<ClaimOutcome> {
    const r = await this.moveOne(FAST.claim, { id, claim: null, workerId, reason: `claimed by ${workerId}`, leaseMs, result: null });
    if (r.notDue) {
      await this.pool.query(q.clearDispatch, [id]);
      return { ok: false, code: "not_due", state: "PENDING", message: `job is in retry backoff until ${r.notDue}` };
    }
    return r;
  }

  /** Extends the lease; false when `claim` is no longer the current one (stop working on it). */
  async renewLease(id: string, claim: number, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query({ name: "jobstack_renew_lease", text: q.renewLease, values: [id, claim, leaseMs] });
    return (rowCount ?? 0) > 0;
  }

  /** RUNNING → COMPLETED, only for the current claim. */
  async complete(id: string, claim: number, workerId: string, result: unknown): Promise<TransitionOutcome> {
    return this.moveOne(FAST.complete, { id, claim, workerId, reason: "completed", leaseMs: null, result: json(result) });
  }

  /**
   * For the current claim: RUNNING → PENDING (retryable, attempts remain; claimable again after
   * retryDelayMs) or RUNNING → FAILED (permanent, or the last attempt).
   */
  fail(id: string, claim: number, workerId: string, input: FailInput): Promise<TransitionOutcome> {
    return this.move(id, null, (job) => {
      const error = errorToJson(input.error);
      const retry = input.retryable && job.attempts < job.maxAttempts;
      const refused = fence(job, claim, retry ? "PENDING" : "FAILED");
      if (refused) return refused;
      if (retry) {
        const delay = Math.max(0, Math.round(input.retryDelayMs ?? 0));
        return {
          to: "PENDING",
          reason: `attempt ${job.attempts} of ${job.maxAttempts} failed, retry in ${delay} ms: ${error.message}`,
          workerId,
          lockedBy: null,
          leaseMs: null,
          runAfterMs: delay,
          clearDispatch: true,
          error,
        };
      }
      const why = input.retryable ? `attempt ${job.attempts} of ${job.maxAttempts} failed, none left` : "permanent failure";
      return { to: "FAILED", reason: `${why}: ${error.message}`, workerId, lockedBy: null, leaseMs: null, error };
    });
  }

  /**
   * RUNNING → PENDING for the current claim without using up the attempt: a draining worker
   * hands the job back unfinished.
   */
  async release(id: string, claim: number, workerId: string, reason = "released by a stopping worker"): Promise<TransitionOutcome> {
    return this.moveOne(FAST.release, { id, claim, workerId, reason, leaseMs: null, result: null });
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
        const { rows } = await client.query<JobRow>(q.lockOneExpired);
        const row = rows[0];
        if (!row) return null;
        const job = rowToJob(row);
        const holder = `claim ${job.claim} held by ${job.lockedBy ?? "?"}`;
        const plan: Plan =
          job.attempts < job.maxAttempts
            ? { to: "PENDING", reason: `lease expired (${holder})`, workerId, lockedBy: null, leaseMs: null, runAfterMs: 0, clearDispatch: true }
            : {
                to: "FAILED",
                reason: `lease expired (${holder}) on the last of ${job.maxAttempts} attempts`,
                workerId,
                lockedBy: null,
                leaseMs: null,
                error: { message: "lease expired: the worker stopped renewing it" },
              };
        return { from: job.state, job: await this.write(client, job, plan) };
      });
      if (!next) break;
      this.notify(next.from, next.job.state, next.job);
      reaped.push(next.job);
    }
    return reaped;
  }

  /** PENDING jobs due for `olderThanMs` whose dispatch was never confirmed (no locks; inspection). */
  async findUndispatched(olderThanMs = 0, limit = 100): Promise<Job[]> {
    const { rows } = await this.pool.query<JobRow>(q.findUndispatched, [olderThanMs, limit]);
    return rows.map(rowToJob);
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
      const { rows } = await client.query<JobRow>(q.lockUndispatched, [olderThanMs, limit, redispatchAfterMs]);
      const jobs = rows.map(rowToJob);
      const settled = await Promise.allSettled(jobs.map((job) => publish(job)));
      const dispatched: Job[] = [];
      const failed: { job: Job; error: unknown }[] = [];
      settled.forEach((s, i) => (s.status === "fulfilled" ? dispatched.push(jobs[i]!) : failed.push({ job: jobs[i]!, error: s.reason })));
      if (dispatched.length > 0) await client.query(q.stampDispatched, [dispatched.map((j) => j.id)]);
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
   * of `chunkSize`: each chunk is one moveJob statement (each job locked, re-checked against
   * the state machine, updated and audited with `reason`), and `onMoved` receives the chunk's
   * moved jobs after its commit (cache, dispatch). A job that changed state between the read
   * and the lock is skipped; a job moved back into the source state during the pass (a retried
   * job failing again) is behind the keyset and not moved twice. Not one transaction: on an
   * error the chunks already committed stay moved (each audited). Returns how many moved.
   */
  async moveMatching(
    op: "retry" | "cancel",
    filter: Omit<JobFilter, "states">,
    reason: string,
    onMoved: (jobs: Job[]) => Promise<void>,
    chunkSize = 1000,
  ): Promise<number> {
    const m = FAST[op];
    let after: Keyset | null = null;
    let moved = 0;
    for (;;) {
      const { text, values } = searchStatement({ ...filter, states: m.from }, after, chunkSize, "id, created_at");
      const { rows } = await this.pool.query<{ id: string; created_us: string }>(text, values);
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      const none = ids.map(() => null);
      const { rows: movedRows } = await this.pool.query<MovedRow>({
        name: `${m.name}_many`,
        text: m.many,
        values: [ids, m.from, m.mustBeDue, none, none, ids.map(() => reason), none, none],
      });
      const jobs: Job[] = [];
      for (const row of movedRows) {
        if (row.id === null) continue;
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
    const { rows } = await this.pool.query<{ ms: number }>(q.msUntilDue, [id]);
    return rows[0]?.ms ?? 0;
  }

  /**
   * One transition in one statement (queries.moveJob): lock, check the from-state against
   * `m.from` (from TRANSITIONS) and the claim when fenced, write, audit — atomic, its own
   * transaction. `notDue` is set (to run_after) when a claim found the job in retry backoff.
   */
  private async moveOne(m: FastMove, input: MoveInput): Promise<TransitionOutcome & { notDue?: string }> {
    const { id, claim } = input;
    const row = await this.movers[m.op].run(input);
    if (!row) return { ok: false, code: "not_found", message: `job ${id} does not exist` };
    if (row.id === null) {
      const held: Held = {
        state: row.from_state,
        claim: Number(row.from_claim),
        lockedBy: row.from_locked_by,
        runAfter: row.from_run_after.toISOString(),
      };
      if (m.mustBeDue && row.not_due && m.from.includes(held.state)) {
        return { ok: false, code: "conflict", state: held.state, message: "not due", notDue: held.runAfter };
      }
      return { ok: false, code: "conflict", state: held.state, message: m.refuse(held, claim) };
    }
    const job = rowToJob(row as JobRow);
    if (job.state !== m.to) throw new Error(`internal: ${m.name} moved job ${id} to ${job.state}, expected ${m.to}`);
    this.notify(row.from_state, job.state, job);
    return { ok: true, job };
  }

  /**
   * The batcher of one FastMove. A batch never holds one job twice (`key`), so each job's row in
   * the result is its own; a failed batch (e.g. a deadlock with a concurrent fail or reap, which
   * lock one row each) is retried job by job.
   */
  private mover(m: FastMove): Batcher<MoveInput, MovedRow | null> {
    const params = (ids: unknown, i: unknown[]) => [ids, m.from, m.mustBeDue, ...i];
    return new Batcher<MoveInput, MovedRow | null>({
      key: (i) => i.id.toLowerCase(),
      one: async (i) => {
        const values = params(i.id, [i.claim, i.workerId, i.reason, i.leaseMs, i.result]);
        const { rows } = await this.pool.query<MovedRow>({ name: m.name, text: m.one, values });
        return rows[0] ?? null;
      },
      many: async (items) => {
        const col = <T>(f: (i: MoveInput) => T) => items.map(f);
        const values = params(
          col((i) => i.id),
          [col((i) => i.claim), col((i) => i.workerId), col((i) => i.reason), col((i) => i.leaseMs), col((i) => i.result)],
        );
        const { rows } = await this.pool.query<MovedRow>({ name: `${m.name}_many`, text: m.many, values });
        const byId = new Map(rows.map((r) => [r.locked_id, r]));
        return items.map((i) => byId.get(i.id.toLowerCase()) ?? null);
      },
      isolateFailures: true,
    });
  }

  /**
   * One transition: lock, plan (may refuse), check the state machine, write, audit, commit.
   * A refusal rolls nothing back because nothing was written; the outcome says why.
   */
  private async move(id: string, target: JobState | null, planner: (job: Job, row: JobRow) => Plan | Refusal): Promise<TransitionOutcome> {
    const outcome = await withTransaction(this.pool, async (client): Promise<TransitionOutcome & { from?: JobState }> => {
      const { rows } = await client.query<JobRow>({ name: "jobstack_lock", text: q.lockJob, values: [id] });
      const row = rows[0];
      if (!row) return { ok: false, code: "not_found", message: `job ${id} does not exist` };
      const job = rowToJob(row);
      const plan = planner(job, row);
      if ("refuse" in plan) return { ok: false, code: "conflict", state: job.state, message: plan.refuse };
      if (target !== null && plan.to !== target) throw new Error(`internal: planned ${plan.to}, expected ${target}`);
      if (!canTransition(job.state, plan.to)) {
        return { ok: false, code: "conflict", state: job.state, message: explainTransition(job.state, plan.to)! };
      }
      return { ok: true, job: await this.write(client, job, plan), from: job.state };
    });
    if (outcome.ok) {
      this.notify(outcome.from ?? null, outcome.job.state, outcome.job);
      return { ok: true, job: outcome.job };
    }
    return outcome;
  }

  private async write(client: pg.PoolClient, job: Job, plan: Plan): Promise<Job> {
    const attempts = plan.attempts ?? job.attempts;
    const claim = plan.claim ?? job.claim;
    const values = [
      job.id,
      plan.to,
      attempts,
      claim,
      plan.lockedBy === undefined ? job.lockedBy : plan.lockedBy,
      plan.leaseMs ?? null,
      plan.runAfterMs ?? null,
      plan.clearDispatch ?? false,
      json(plan.result === undefined ? job.result : plan.result),
      json(plan.error === undefined ? job.error : plan.error),
      false,
      job.state,
      plan.workerId,
      plan.reason,
    ];
    const { rows } = await client.query<JobRow>({ name: "jobstack_update_audit", text: q.updateJobAndAudit, values });
    return rowToJob(rows[0]!);
  }

  private notify(from: JobState | null, to: JobState, job: Job): void {
    try {
      this.onTransition?.(from, to, job);
    } catch {
      // A metrics hook must never turn a committed transition into a reported failure.
    }
  }
}

/** The fencing check: only the current claim of a RUNNING job may finish it. */
function fence(job: Pick<Job, "state" | "claim" | "lockedBy">, claim: number, to: JobState): Refusal | null {
  if (job.state !== "RUNNING") return { refuse: explainTransition(job.state, to) ?? `job is ${job.state}, not RUNNING` };
  if (job.claim !== claim) {
    return { refuse: `claim ${claim} is stale: the job is now held by claim ${job.claim} (${job.lockedBy ?? "no worker"})` };
  }
  return null;
}

/** The state machine's reason when the move is forbidden outright, else the operation's own rule. */
function explainOrOnly(from: JobState, to: JobState, rule: string): string {
  return explainTransition(from, to) ?? `${rule}; this one is ${from}`;
}

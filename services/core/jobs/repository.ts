// The job repository: every state change is one transaction that locks the job row
// (`select … for update`), checks the move against the state machine and the claim (fencing
// token), updates the row and appends to job_transitions, then commits. Nothing else writes jobs.

import type pg from "pg";
import { withTransaction } from "../db.js";
import { canTransition, explainTransition, type JobState } from "../states.js";
import { uuidv7 } from "../uuid.js";
import * as q from "./queries.js";
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

export class JobRepository {
  private readonly onTransition: TransitionListener | undefined;
  private readonly defaultMaxAttempts: number;

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
    const result = await withTransaction(this.pool, async (client) => {
      const inserted = await client.query<JobRow>(q.insertJob, [
        id,
        input.type,
        JSON.stringify(input.payload ?? null),
        input.maxAttempts ?? this.defaultMaxAttempts,
        key,
      ]);
      const row = inserted.rows[0];
      if (!row) {
        // The key was used before; that job is the answer (never a second one).
        const existing = await client.query<JobRow>(q.getJobByIdempotencyKey, [key]);
        return { job: rowToJob(existing.rows[0]!), created: false };
      }
      await client.query(q.insertTransition, [id, null, "PENDING", null, 0, 0, "submitted"]);
      return { job: rowToJob(row), created: true };
    });
    if (result.created) this.notify(null, "PENDING", result.job);
    return result;
  }

  async get(id: string): Promise<Job | null> {
    const { rows } = await this.pool.query<JobRow>(q.getJob, [id]);
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
  async markDispatched(id: string, claim = 0): Promise<boolean> {
    const { rowCount } = await this.pool.query(q.markDispatched, [id, claim]);
    return (rowCount ?? 0) > 0;
  }

  /** PENDING → CANCELLED. */
  cancel(id: string, reason = "cancelled"): Promise<TransitionOutcome> {
    return this.move(id, "CANCELLED", (job) =>
      job.state !== "PENDING" ? { refuse: explainOrOnly(job.state, "CANCELLED", "only a PENDING job can be cancelled") } : { to: "CANCELLED", reason, workerId: null },
    );
  }

  /** FAILED → PENDING by an operator: attempts reset, audited as a manual retry. */
  retry(id: string, reason = "manual retry"): Promise<TransitionOutcome> {
    return this.move(id, "PENDING", (job) =>
      job.state !== "FAILED"
        ? { refuse: explainOrOnly(job.state, "PENDING", "only a FAILED job can be retried") }
        : { to: "PENDING", reason, workerId: null, attempts: 0, runAfterMs: 0, clearDispatch: true, error: null, result: null },
    );
  }

  /**
   * PENDING → RUNNING: takes a lease and the next claim number (the fencing token). A job still
   * in retry backoff is refused as not_due and its dispatch is forgotten, so the sweeper sends it
   * again when it is due instead of the early message being lost.
   */
  async claim(id: string, workerId: string, leaseMs: number): Promise<ClaimOutcome> {
    let notDue = false;
    const outcome = await this.move(id, "RUNNING", (job, row) => {
      if (job.state !== "PENDING") return { refuse: explainTransition(job.state, "RUNNING") ?? `job is ${job.state}` };
      if (row.not_due) {
        notDue = true;
        return { refuse: `job is in retry backoff until ${job.runAfter}` };
      }
      return {
        to: "RUNNING",
        reason: `claimed by ${workerId}`,
        workerId,
        attempts: job.attempts + 1,
        claim: job.claim + 1,
        lockedBy: workerId,
        leaseMs,
      };
    });
    if (notDue) {
      await this.pool.query(q.clearDispatch, [id]);
      return { ok: false, code: "not_due", state: "PENDING", message: outcome.ok ? "" : outcome.message };
    }
    return outcome;
  }

  /** Extends the lease; false when `claim` is no longer the current one (stop working on it). */
  async renewLease(id: string, claim: number, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(q.renewLease, [id, claim, leaseMs]);
    return (rowCount ?? 0) > 0;
  }

  /** RUNNING → COMPLETED, only for the current claim. */
  complete(id: string, claim: number, workerId: string, result: unknown): Promise<TransitionOutcome> {
    return this.move(id, "COMPLETED", (job) => {
      const refused = fence(job, claim, "COMPLETED");
      if (refused) return refused;
      return { to: "COMPLETED", reason: "completed", workerId, lockedBy: null, leaseMs: null, result, error: null };
    });
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
  release(id: string, claim: number, workerId: string, reason = "released by a stopping worker"): Promise<TransitionOutcome> {
    return this.move(id, "PENDING", (job) => {
      const refused = fence(job, claim, "PENDING");
      if (refused) return refused;
      return {
        to: "PENDING",
        reason,
        workerId,
        attempts: Math.max(0, job.attempts - 1),
        lockedBy: null,
        leaseMs: null,
        runAfterMs: 0,
        clearDispatch: true,
      };
    });
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

  /** Milliseconds until the job is claimable, by the database clock (0 when due). */
  async msUntilDue(id: string): Promise<number> {
    const { rows } = await this.pool.query<{ ms: number }>(q.msUntilDue, [id]);
    return rows[0]?.ms ?? 0;
  }

  /**
   * One transition: lock, plan (may refuse), check the state machine, write, audit, commit.
   * A refusal rolls nothing back because nothing was written; the outcome says why.
   */
  private async move(id: string, target: JobState | null, planner: (job: Job, row: JobRow) => Plan | Refusal): Promise<TransitionOutcome> {
    const outcome = await withTransaction(this.pool, async (client): Promise<TransitionOutcome & { from?: JobState }> => {
      const { rows } = await client.query<JobRow>(q.lockJob, [id]);
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
    const { rows } = await client.query<JobRow>(q.updateJobAndAudit, [
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
    ]);
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
function fence(job: Job, claim: number, to: JobState): Refusal | null {
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

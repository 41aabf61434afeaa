// The transitions out of RUNNING whose plan depends on the locked row (attempts left, reasons
// quoting them), which SQL would have to duplicate: a handler's failure (retry or final) and the
// reaper's return of an expired lease. Each runs inside the caller's transaction: `lockJob`, the
// plan in TypeScript (planFailure, planReap), the state machine's check, `updateJobAndAudit`.
// Off the hot path of a job that works.

import { firstRow, type Operation } from "../operation.js";
import { errorToJson, json, JOB_COLUMNS, rowToJob } from "../rows.js";
import type { FailInput, Job } from "../types.js";
import { fence } from "./move.js";

/**
 * $1 id → the job, locked until the transaction ends: the per-job serialisation point of the
 * transitions planned here. Null when it does not exist.
 */
export const lockJob: Operation<string, Job | null> = {
  name: "jobstack_lock",
  text: `
select ${JOB_COLUMNS} from jobs where id = $1::uuid for update`,
  values: (id) => [id],
  result: firstRow(rowToJob),
};

/** Where a job leaves RUNNING for, and what it records on the way. */
export interface Settlement {
  readonly to: "PENDING" | "FAILED";
  readonly reason: string;
  readonly workerId: string | null;
  /** Claimable again after this many ms; null keeps run_after. */
  readonly runAfterMs: number | null;
  /** Forget the dispatch so the sweeper publishes again (every return to PENDING). */
  readonly clearDispatch: boolean;
  /** Stored in jobs.error. */
  readonly error: unknown;
}

/**
 * Writes a settlement of the locked job and its audit row in one statement. The lease and its
 * holder are cleared; attempts, claim and result stay. $1 id, $2 new state, $3 run_after delay
 * ms (null keeps it), $4 clear dispatch, $5 error (JSON text), $6 from state, $7 worker id,
 * $8 reason → the updated job.
 */
export const updateJobAndAudit: Operation<{ readonly job: Job; readonly plan: Settlement }, Job> = {
  name: "jobstack_update_audit",
  text: `
with updated as (update jobs set
  state = $2::text,
  locked_by = null,
  lease_expires_at = null,
  run_after = case when $3::integer is null then run_after
                   else now() + $3::integer * interval '1 millisecond' end,
  dispatched_at = case when $4::boolean then null else dispatched_at end,
  error = $5::jsonb,
  version = version + 1,
  updated_at = now()
where id = $1::uuid
returning ${JOB_COLUMNS}),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select id, $6::text, state, $7::text, attempts, claim, $8::text from updated
)
select ${JOB_COLUMNS} from updated`,
  values: ({ job, plan }) => [job.id, plan.to, plan.runAfterMs, plan.clearDispatch, json(plan.error), job.state, plan.workerId, plan.reason],
  result: (r) => rowToJob(r.rows[0]),
};

/**
 * A handler's failure under `claim`: RUNNING → PENDING (retryable, attempts remain; claimable
 * again after retryDelayMs) or RUNNING → FAILED (permanent, or the last attempt). A string is
 * the refusal (fencing).
 */
export function planFailure(job: Job, claim: number, workerId: string, input: FailInput): Settlement | string {
  const error = errorToJson(input.error);
  const retry = input.retryable && job.attempts < job.maxAttempts;
  const refused = fence(job, claim, retry ? "PENDING" : "FAILED");
  if (refused !== null) return refused;
  if (retry) {
    const delay = Math.max(0, Math.round(input.retryDelayMs ?? 0));
    return {
      to: "PENDING",
      reason: `attempt ${job.attempts} of ${job.maxAttempts} failed, retry in ${delay} ms: ${error.message}`,
      workerId,
      runAfterMs: delay,
      clearDispatch: true,
      error,
    };
  }
  const why = input.retryable ? `attempt ${job.attempts} of ${job.maxAttempts} failed, none left` : "permanent failure";
  return { to: "FAILED", reason: `${why}: ${error.message}`, workerId, runAfterMs: null, clearDispatch: false, error };
}

/** An expired lease: back to PENDING (due now) when attempts remain, else FAILED. */
export function planReap(job: Job, workerId: string | null): Settlement {
  const holder = `claim ${job.claim} held by ${job.lockedBy ?? "?"}`;
  return job.attempts < job.maxAttempts
    ? { to: "PENDING", reason: `lease expired (${holder})`, workerId, runAfterMs: 0, clearDispatch: true, error: job.error }
    : {
        to: "FAILED",
        reason: `lease expired (${holder}) on the last of ${job.maxAttempts} attempts`,
        workerId,
        runAfterMs: null,
        clearDispatch: false,
        error: { message: "lease expired: the worker stopped renewing it" },
      };
}

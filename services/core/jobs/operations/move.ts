// The one-statement transitions (claim, complete, cancel, release, defer, manual retry): lock the
// row (`for update`), check the move, update, append the audit row, in one statement, which is
// its own transaction — for one job, or for a batch of jobs moving the same way. Each move is
// defined once below: its SET list, the from-states the state machine allows it, whether it is
// fenced by a claim, and the refusal it explains.

import { explainTransition, sourcesOf, type JobState } from "../../states.js";
import type { Operation } from "../operation.js";
import { jobColumnsOf, rowToJob, type JobRow } from "../rows.js";
import type { Job, TransitionOutcome } from "../types.js";

/** One job's part of a move statement (see moveStatement's parameters). */
export interface MoveInput {
  readonly id: string;
  /** The claim the job must hold (fencing token); null for moves that are not fenced. */
  readonly claim: number | null;
  readonly workerId: string | null;
  readonly reason: string;
  /** Claims: the lease; defer: the delay until due. */
  readonly leaseMs: number | null;
  /** Completions: the result as JSON text. */
  readonly result: string | null;
}

/** A row of a move statement: the state the job was locked in, and the new row when it moved. */
export type MovedRow = Omit<JobRow, "id"> & {
  locked_id: string;
  id: string | null;
  from_state: JobState;
  from_claim: string | number;
  from_locked_by: string | null;
  from_run_after: Date;
  not_due: boolean;
};

/** What the lock saw, for the refusal's message. */
export interface Held {
  readonly state: JobState;
  readonly claim: number;
  readonly lockedBy: string | null;
  readonly runAfter: string;
}

/**
 * One whole transition in one statement: lock the row (`for update`), check the move, update,
 * append the audit row. A single statement is atomic, so this is still one transaction that
 * locks the row before it writes; the lock is taken by `locked`, which `moved` joins, and the
 * update re-checks its conditions on the row version it locked.
 *
 * The same statement moves one job (`many` false: scalar parameters) or several (`many` true:
 * arrays of one length, one element per job; the repository batches moves that arrive while one
 * is in flight). Each job's lock, check, update and audit row stay together; rows are locked in
 * id order, so two batches never wait for each other in a cycle. A job may appear at most once
 * per batch (the batcher keeps duplicates for the next one).
 *
 * `set` is the operation's SET list; it may read the old row as `j.*` and the job's input as
 * `i.*` (worker_id, lease_ms, result); version and updated_at are added here. Parameters:
 *   $1 id(s)
 *   $2 allowed from-states (text[]): computed from TRANSITIONS by the caller, never written here
 *   $3 true when the job must be due (run_after <= now()), i.e. claims
 *   $4 claim(s) the job must hold (fencing token), null for moves that are not fenced
 *   $5 worker id(s) (audit, and the holder for claims), $6 reason(s) (audit)
 *   $7 lease ms (claims), $8 result as JSON text (completions); null when unused
 * Result: one row per job that exists (none for a missing id), with the state it was locked in
 * (`from_state`, `from_claim`, `from_locked_by`, `from_run_after`, `not_due`) and, when the
 * move was made, the new row (its columns all null when the move was refused and nothing changed).
 */
export function moveStatement(set: string, many: boolean): string {
  const input = many
    ? `select * from unnest($1::uuid[], $4::bigint[], $5::text[], $6::text[], $7::integer[], $8::text[])
    as i(id, claim, worker_id, reason, lease_ms, result)`
    : `select $1::uuid as id, $4::bigint as claim, $5::text as worker_id, $6::text as reason,
    $7::integer as lease_ms, $8::text as result`;
  return `
with input as (
  ${input}
),
locked as (
  select j.id, j.state, j.claim, j.locked_by, j.run_after, j.run_after > now() as not_due
  from jobs j join input i on j.id = i.id
  order by j.id
  for update of j
),
moved as (
  update jobs j set ${set.trim()}, version = j.version + 1, updated_at = now()
  from locked l join input i on i.id = l.id
  where j.id = l.id
    and j.state = any($2::text[])
    and (i.claim is null or j.claim = i.claim)
    and not ($3::boolean and l.not_due)
  returning ${jobColumnsOf("j")}, i.worker_id as audit_worker_id, i.reason as audit_reason
),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select m.id, l.state, m.state, m.audit_worker_id, m.attempts, m.claim, m.audit_reason
  from moved m join locked l on l.id = m.id
  order by m.id
)
select l.id as locked_id, l.state as from_state, l.claim as from_claim, l.locked_by as from_locked_by,
       l.run_after as from_run_after, l.not_due, ${jobColumnsOf("m")}
from locked l left join moved m on m.id = l.id`;
}

export type MoveName = "claim" | "complete" | "cancel" | "release" | "defer" | "retry";

/** What a move answers: the outcome, and for a claim in retry backoff, until when (`notDue`). */
export type MoveOutcome = TransitionOutcome & { readonly notDue?: string; readonly from?: JobState };

export interface Move {
  readonly op: MoveName;
  readonly to: JobState;
  /** What TRANSITIONS allows into `to`, narrowed to the states the operation applies to. */
  readonly from: readonly JobState[];
  /** Claims: refuse a job still in retry backoff. */
  readonly mustBeDue: boolean;
  /** The SET list (see moveStatement). */
  readonly set: string;
  /** The statement for one job, and for a batch (results in the order of the inputs). */
  readonly one: Operation<MoveInput, MovedRow | null>;
  readonly many: Operation<readonly MoveInput[], (MovedRow | null)[]>;
  /** The answer for one job from its row (null: no such job). */
  readonly outcome: (row: MovedRow | null, input: MoveInput) => MoveOutcome;
}

/** The fencing check: only the current claim of a RUNNING job may finish it. Null: allowed. */
export function fence(job: Pick<Job, "state" | "claim" | "lockedBy">, claim: number, to: JobState): string | null {
  if (job.state !== "RUNNING") return explainTransition(job.state, to) ?? `job is ${job.state}, not RUNNING`;
  if (job.claim !== claim) {
    return `claim ${claim} is stale: the job is now held by claim ${job.claim} (${job.lockedBy ?? "no worker"})`;
  }
  return null;
}

/** The state machine's reason when the move is forbidden outright, else the operation's own rule. */
function explainOrOnly(from: JobState, to: JobState, rule: string): string {
  return explainTransition(from, to) ?? `${rule}; this one is ${from}`;
}

function defineMove(op: MoveName, to: JobState, operationFrom: readonly JobState[], set: string, refuse: (held: Held, claim: number | null) => string): Move {
  const from = sourcesOf(to).filter((s) => operationFrom.includes(s));
  const mustBeDue = op === "claim";
  const head = (ids: unknown) => [ids, from, mustBeDue];
  const m: Move = {
    op,
    to,
    from,
    mustBeDue,
    set,
    one: {
      name: `jobstack_${op}`,
      text: moveStatement(set, false),
      values: (i) => [...head(i.id), i.claim, i.workerId, i.reason, i.leaseMs, i.result],
      result: (r) => (r.rows[0] as MovedRow | undefined) ?? null,
    },
    many: {
      name: `jobstack_${op}_many`,
      text: moveStatement(set, true),
      values: (items) => {
        const col = <T>(f: (i: MoveInput) => T) => items.map(f);
        return [...head(col((i) => i.id)), col((i) => i.claim), col((i) => i.workerId), col((i) => i.reason), col((i) => i.leaseMs), col((i) => i.result)];
      },
      result: (r, items) => {
        const byId = new Map((r.rows as MovedRow[]).map((row) => [row.locked_id, row]));
        return items.map((i) => byId.get(i.id.toLowerCase()) ?? null);
      },
    },
    outcome: (row, input) => {
      if (!row) return { ok: false, code: "not_found", message: `job ${input.id} does not exist` };
      if (row.id === null) {
        const held: Held = {
          state: row.from_state,
          claim: Number(row.from_claim),
          lockedBy: row.from_locked_by,
          runAfter: row.from_run_after.toISOString(),
        };
        if (mustBeDue && row.not_due && from.includes(held.state)) {
          return { ok: false, code: "conflict", state: held.state, message: "not due", notDue: held.runAfter };
        }
        return { ok: false, code: "conflict", state: held.state, message: refuse(held, input.claim) };
      }
      const job = rowToJob(row as JobRow);
      if (job.state !== to) throw new Error(`internal: ${op} moved job ${input.id} to ${job.state}, expected ${to}`);
      return { ok: true, job, from: row.from_state };
    },
  };
  return m;
}

const fenced = (to: JobState) => (held: Held, claim: number | null) => fence(held, claim!, to)!;

/** Every one-statement move, each defined once. */
export const MOVES: Readonly<Record<MoveName, Move>> = {
  /** PENDING → RUNNING: a new claim number and attempt, held by i.worker_id for i.lease_ms. */
  claim: defineMove(
    "claim",
    "RUNNING",
    ["PENDING"],
    `state = 'RUNNING', attempts = j.attempts + 1, claim = j.claim + 1, locked_by = i.worker_id,
  lease_expires_at = now() + i.lease_ms * interval '1 millisecond'`,
    (held) => explainTransition(held.state, "RUNNING") ?? `job is ${held.state}`,
  ),
  /** RUNNING → COMPLETED with i.result, only for the current claim. */
  complete: defineMove(
    "complete",
    "COMPLETED",
    ["RUNNING"],
    `state = 'COMPLETED', locked_by = null, lease_expires_at = null, result = i.result::jsonb, error = null`,
    fenced("COMPLETED"),
  ),
  /** PENDING → CANCELLED. */
  cancel: defineMove(
    "cancel",
    "CANCELLED",
    ["PENDING"],
    `state = 'CANCELLED', lease_expires_at = null`,
    (held) => explainOrOnly(held.state, "CANCELLED", "only a PENDING job can be cancelled"),
  ),
  /** RUNNING → PENDING without using up the attempt (draining worker); due now, dispatch forgotten. */
  release: defineMove(
    "release",
    "PENDING",
    ["RUNNING"],
    `state = 'PENDING', attempts = greatest(0, j.attempts - 1), locked_by = null, lease_expires_at = null,
  run_after = now(), dispatched_at = null`,
    fenced("PENDING"),
  ),
  /**
   * RUNNING → PENDING without using up the attempt, due again in i.lease_ms (the column carries
   * the delay here): a worker that has no handler for the job's type hands it back (rolling
   * deploys; see services/worker/worker.ts).
   */
  defer: defineMove(
    "defer",
    "PENDING",
    ["RUNNING"],
    `state = 'PENDING', attempts = greatest(0, j.attempts - 1), locked_by = null, lease_expires_at = null,
  run_after = now() + i.lease_ms * interval '1 millisecond', dispatched_at = null`,
    fenced("PENDING"),
  ),
  /** FAILED → PENDING by an operator: attempts reset, due now, dispatch forgotten, outcome cleared. */
  retry: defineMove(
    "retry",
    "PENDING",
    ["FAILED"],
    `state = 'PENDING', attempts = 0, lease_expires_at = null, run_after = now(), dispatched_at = null,
  result = null, error = null`,
    (held) => explainOrOnly(held.state, "PENDING", "only a FAILED job can be retried"),
  ),
};

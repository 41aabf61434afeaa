// Dispatch bookkeeping: marking a PENDING spell as published (after the broker's confirm), the
// sweeper's lock-publish-stamp of what was never confirmed, and forgetting an early dispatch.

import { changedAny, type Operation } from "../operation.js";
import { JOB_COLUMNS, rowToJob, type JobRow } from "../rows.js";
import type { Job } from "../types.js";

/** A dispatch mark: the job and the claim number its publisher saw (0 for a new job). */
export interface Mark {
  readonly id: string;
  readonly claim: number;
}

/**
 * Marks the current PENDING spell as dispatched. $1 id, $2 claim → true when one row was
 * updated; false when the job moved on meanwhile (claimed, cancelled, or re-queued under a new
 * claim) and the mark no longer applies.
 */
export const markDispatched: Operation<Mark, boolean> = {
  name: "jobstack_mark_dispatched",
  text: `
update jobs set dispatched_at = now()
where id = $1::uuid and claim = $2::bigint and state = 'PENDING' and dispatched_at is null`,
  values: (m) => [m.id, m.claim],
  result: changedAny,
};

/**
 * markDispatched for many jobs in one statement (the repository batches the marks that arrive
 * while one is in flight). $1 ids, $2 their claims (same length) → per mark, in order, whether it
 * applied. Rows are locked in id order, like the moves', so a batch of marks and a batch of moves
 * never deadlock. Advisory: a mark lost to an error only makes the sweeper publish the job again,
 * and the claim drops the duplicate.
 */
export const markDispatchedMany: Operation<readonly Mark[], boolean[]> = {
  name: "jobstack_mark_dispatched_many",
  text: `
with target as (
  select j.id from jobs j join unnest($1::uuid[], $2::bigint[]) as m(id, claim) on j.id = m.id and j.claim = m.claim
  where j.state = 'PENDING' and j.dispatched_at is null
  order by j.id
  for update of j
)
update jobs j set dispatched_at = now()
from target t
where j.id = t.id and j.state = 'PENDING' and j.dispatched_at is null
returning j.id, j.claim`,
  values: (marks) => [marks.map((m) => m.id), marks.map((m) => m.claim)],
  result: (r, marks) => {
    const marked = new Set((r.rows as { id: string; claim: string }[]).map((row) => `${row.id}/${row.claim}`));
    return marks.map((m) => marked.has(`${m.id.toLowerCase()}/${m.claim}`));
  },
};

/** What the sweeper selects. */
export interface SweepSelection {
  /** Never-confirmed jobs due for this long. */
  readonly olderThanMs: number;
  readonly limit: number;
  /** Also confirmed jobs dispatched longer ago than this and never claimed; null = off. */
  readonly redispatchAfterMs: number | null;
}

/**
 * PENDING jobs to (re)publish, locked for the sweeper's transaction (skip locked: another sweeper
 * has them): never confirmed and due for $1 ms, or — when $3 is not null — confirmed more than
 * $3 ms ago and still not claimed (the broker lost the message). $2 limit → jobs.
 * Two selects joined by union so each uses its partial index; the conditions are repeated on
 * the outer query because only its quals are re-checked on a row another sweeper changed
 * meanwhile (without them, a job swept and committed by another worker is sent twice).
 */
export const lockUndispatched: Operation<SweepSelection, Job[]> = {
  text: `
select ${JOB_COLUMNS} from jobs
where state = 'PENDING'
  and ((dispatched_at is null and run_after <= now() - $1::integer * interval '1 millisecond')
       or ($3::integer is not null and dispatched_at < now() - $3::integer * interval '1 millisecond'))
  and id in (
  (select id from jobs
   where state = 'PENDING' and dispatched_at is null
     and run_after <= now() - $1::integer * interval '1 millisecond'
   order by run_after limit $2::integer)
  union all
  (select id from jobs
   where $3::integer is not null and state = 'PENDING' and dispatched_at is not null
     and dispatched_at < now() - $3::integer * interval '1 millisecond'
   order by dispatched_at limit $2::integer)
)
limit $2::integer
for update skip locked`,
  values: (s) => [s.olderThanMs, s.limit, s.redispatchAfterMs],
  result: (r) => (r.rows as JobRow[]).map(rowToJob),
};

/** Never-confirmed PENDING jobs due for $1 ms, without locks (inspection). $2 limit → jobs. */
export const findUndispatched: Operation<{ readonly olderThanMs: number; readonly limit: number }, Job[]> = {
  text: `
select ${JOB_COLUMNS} from jobs
where state = 'PENDING' and dispatched_at is null
  and run_after <= now() - $1::integer * interval '1 millisecond'
order by run_after
limit $2::integer`,
  values: (s) => [s.olderThanMs, s.limit],
  result: (r) => (r.rows as JobRow[]).map(rowToJob),
};

/** Sweeper: $1 ids → stamps them dispatched after the broker confirmed. */
export const stampDispatched: Operation<readonly string[], void> = {
  text: `
update jobs set dispatched_at = now() where id = any($1::uuid[])`,
  values: (ids) => [ids],
  result: () => undefined,
};

/** A claim arrived before run_after: forget the dispatch so the sweeper sends it when due. $1 id. */
export const clearDispatch: Operation<string, void> = {
  text: `
update jobs set dispatched_at = null where id = $1::uuid`,
  values: (id) => [id],
  result: () => undefined,
};

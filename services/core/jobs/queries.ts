// The SQL of the job repository, one statement per constant. Lowercase, typed placeholders.
// The hot transitions (claim, complete, cancel, release, manual retry) are each one statement
// (`moveJob`): lock, check, update and audit in one round trip, which as a single statement is
// its own transaction (for one job, or for a batch of jobs moving the same way). The moves whose plan depends on the row in ways SQL would have to
// duplicate (fail, reap) run `lockJob` then `updateJobAndAudit` inside the caller's transaction.
//
// Rows are read with an explicit column list, not `*`: the hot statements are named prepared
// statements (see repository.ts), and a prepared `select *` fails with "cached plan must not
// change result type" once a migration adds a column under a running process.

/** The columns of `jobs` that JobRow maps, in one place. */
export const JOB_COLUMNS =
  "id, type, state, payload, result, error, attempts, max_attempts, idempotency_key, claim, locked_by, lease_expires_at, run_after, dispatched_at, version, created_at, updated_at";
const JOB_COLUMNS_OF = (alias: string) =>
  JOB_COLUMNS.split(", ")
    .map((c) => `${alias}.${c}`)
    .join(", ");

/**
 * $1 id → the full row plus `not_due` (still in retry backoff, by the database clock), locked
 * until the transaction ends: the per-job serialisation point of every transition.
 */
export const lockJob = `
select ${JOB_COLUMNS}, run_after > now() as not_due from jobs where id = $1::uuid for update`;

/** $1 id → the full row, no lock (reads). */
export const getJob = `
select ${JOB_COLUMNS} from jobs where id = $1::uuid`;

/** $1 idempotency key → the full row of the job first submitted with it. */
export const getJobByIdempotencyKey = `
select ${JOB_COLUMNS} from jobs where idempotency_key = $1::text`;

/**
 * $1 id, $2 type, $3 payload, $4 max_attempts, $5 idempotency key → the new row, or no row when
 * the key was used before (the caller then reads the first job).
 */
export const insertJob = `
insert into jobs (id, type, state, payload, max_attempts, idempotency_key)
values ($1::uuid, $2::text, 'PENDING', $3::jsonb, $4::integer, $5::text)
on conflict (idempotency_key) do nothing
returning ${JOB_COLUMNS}`;

/**
 * insertJob and its audit row (`→ PENDING`, "submitted") in one statement, so one transaction
 * and one round trip. Parameters of insertJob → the new row, or no row when the key was used
 * before (then nothing at all was written, not even the audit row).
 */
export const submitJob = `
with inserted as (${insertJob.trim()}),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select id, null, state, null, attempts, claim, 'submitted' from inserted
)
select ${JOB_COLUMNS} from inserted`;

/**
 * Writes a planned transition. $1 id, $2 state, $3 attempts, $4 claim, $5 locked_by,
 * $6 lease ms (null clears the lease), $7 run_after delay ms (null keeps it), $8 clear dispatch,
 * $9 result, $10 error, $11 set dispatched_at to now → the updated row.
 */
export const updateJob = `
update jobs set
  state = $2::text,
  attempts = $3::integer,
  claim = $4::bigint,
  locked_by = $5::text,
  lease_expires_at = case when $6::integer is null then null
                          else now() + $6::integer * interval '1 millisecond' end,
  run_after = case when $7::integer is null then run_after
                   else now() + $7::integer * interval '1 millisecond' end,
  dispatched_at = case when $8::boolean then null
                       when $11::boolean then now()
                       else dispatched_at end,
  result = $9::jsonb,
  error = $10::jsonb,
  version = version + 1,
  updated_at = now()
where id = $1::uuid
returning ${JOB_COLUMNS}`;

/**
 * updateJob and its audit row in one statement (one round trip less per transition; the
 * machine this was measured on spent most of a job's time in round trips). Parameters of
 * updateJob, then $12 from state, $13 worker id, $14 reason → the updated row.
 */
export const updateJobAndAudit = `
with updated as (${updateJob.trim()}),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select id, $12::text, state, $13::text, attempts, claim, $14::text from updated
)
select ${JOB_COLUMNS} from updated`;

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
export function moveJob(set: string, many: boolean): string {
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
  returning ${JOB_COLUMNS_OF("j")}, i.worker_id as audit_worker_id, i.reason as audit_reason
),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select m.id, l.state, m.state, m.audit_worker_id, m.attempts, m.claim, m.audit_reason
  from moved m join locked l on l.id = m.id
  order by m.id
)
select l.id as locked_id, l.state as from_state, l.claim as from_claim, l.locked_by as from_locked_by,
       l.run_after as from_run_after, l.not_due, ${JOB_COLUMNS_OF("m")}
from locked l left join moved m on m.id = l.id`;
}

/** The SET lists of the one-statement transitions (see moveJob). */
export const MOVES = {
  /** PENDING → RUNNING: a new claim number and attempt, held by i.worker_id for i.lease_ms. */
  claim: `state = 'RUNNING', attempts = j.attempts + 1, claim = j.claim + 1, locked_by = i.worker_id,
  lease_expires_at = now() + i.lease_ms * interval '1 millisecond'`,
  /** RUNNING → COMPLETED with i.result. */
  complete: `state = 'COMPLETED', locked_by = null, lease_expires_at = null, result = i.result::jsonb, error = null`,
  /** PENDING → CANCELLED. */
  cancel: `state = 'CANCELLED', lease_expires_at = null`,
  /** RUNNING → PENDING without using up the attempt (draining worker); due now, dispatch forgotten. */
  release: `state = 'PENDING', attempts = greatest(0, j.attempts - 1), locked_by = null, lease_expires_at = null,
  run_after = now(), dispatched_at = null`,
  /**
   * RUNNING → PENDING without using up the attempt, due again in i.lease_ms (the column carries
   * the delay here): a worker that has no handler for the job's type hands it back (rolling
   * deploys; see services/worker/worker.ts).
   */
  defer: `state = 'PENDING', attempts = greatest(0, j.attempts - 1), locked_by = null, lease_expires_at = null,
  run_after = now() + i.lease_ms * interval '1 millisecond', dispatched_at = null`,
  /** FAILED → PENDING by an operator: attempts reset, due now, dispatch forgotten, outcome cleared. */
  retry: `state = 'PENDING', attempts = 0, lease_expires_at = null, run_after = now(), dispatched_at = null,
  result = null, error = null`,
} as const;

/**
 * submitJob for several jobs in one statement (the repository batches submissions that arrive
 * while one is in flight). $1 ids, $2 types, $3 payloads (JSON text), $4 max_attempts,
 * $5 idempotency keys — arrays of one length → the new rows; a job whose key was used before
 * (by an earlier job or by an earlier item of this batch) has no row and wrote nothing.
 */
export const submitJobs = `
with input as (
  select * from unnest($1::uuid[], $2::text[], $3::text[], $4::integer[], $5::text[])
    with ordinality as i(id, type, payload, max_attempts, idempotency_key, ord)
),
inserted as (
  insert into jobs (id, type, state, payload, max_attempts, idempotency_key)
  select id, type, 'PENDING', payload::jsonb, max_attempts, idempotency_key from input order by ord
  on conflict (idempotency_key) do nothing
  returning ${JOB_COLUMNS}
),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select id, null, state, null, attempts, claim, 'submitted' from inserted
)
select ${JOB_COLUMNS} from inserted`;

/**
 * $1 job id → its audit log, oldest first; none when the job does not exist (a job deleted by
 * retention leaves its audit rows until their partition is dropped: they are not shown).
 */
export const listTransitions = `
select * from job_transitions
where job_id = $1::uuid and exists (select 1 from jobs where id = $1::uuid)
order by seq`;

/**
 * Marks the current PENDING spell as dispatched. $1 id, $2 claim → one row updated, or none when the job
 * moved on meanwhile (claimed, cancelled, or re-queued under a new claim) and the mark no longer applies.
 */
export const markDispatched = `
update jobs set dispatched_at = now()
where id = $1::uuid and claim = $2::bigint and state = 'PENDING' and dispatched_at is null`;

/**
 * markDispatched for many jobs in one statement (the repository batches the marks that arrive
 * while one is in flight). $1 ids, $2 their claims (same length) → (id, claim) of every row
 * marked; a pair not returned no longer applies. Rows are locked in id order, like moveJob's,
 * so a batch of marks and a batch of moves never deadlock. Advisory: a mark lost to an error only makes
 * the sweeper publish the job again, and the claim drops the duplicate.
 */
export const markDispatchedMany = `
with target as (
  select j.id from jobs j join unnest($1::uuid[], $2::bigint[]) as m(id, claim) on j.id = m.id and j.claim = m.claim
  where j.state = 'PENDING' and j.dispatched_at is null
  order by j.id
  for update of j
)
update jobs j set dispatched_at = now()
from target t
where j.id = t.id and j.state = 'PENDING' and j.dispatched_at is null
returning j.id, j.claim`;

/**
 * Extends the lease of the claim holder. $1 id, $2 claim, $3 lease ms → one row updated, or none when
 * the claim is no longer current (reaped and taken over: the caller must stop).
 */
export const renewLease = `
update jobs set lease_expires_at = now() + $3::integer * interval '1 millisecond'
where id = $1::uuid and claim = $2::bigint and state = 'RUNNING'`;

/**
 * Picks one RUNNING job whose lease expired, locked; rows another reaper holds are skipped, so
 * several workers reap side by side without waiting or double-reaping. No parameters.
 */
export const lockOneExpired = `
select ${JOB_COLUMNS} from jobs
where state = 'RUNNING' and lease_expires_at < now()
order by lease_expires_at
limit 1
for update skip locked`;

/**
 * PENDING jobs to (re)publish, locked for the sweeper's transaction (skip locked: another sweeper
 * has them): never confirmed and due for $1 ms, or — when $3 is not null — confirmed more than
 * $3 ms ago and still not claimed (the broker lost the message). $2 limit → rows.
 * Two selects joined by union so each uses its partial index; the conditions are repeated on
 * the outer query because only its quals are re-checked on a row another sweeper changed
 * meanwhile (without them, a job swept and committed by another worker is sent twice).
 */
export const lockUndispatched = `
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
for update skip locked`;

/** Never-confirmed PENDING jobs due for $1 ms, without locks (inspection). $2 limit → rows. */
export const findUndispatched = `
select ${JOB_COLUMNS} from jobs
where state = 'PENDING' and dispatched_at is null
  and run_after <= now() - $1::integer * interval '1 millisecond'
order by run_after
limit $2::integer`;

/** Sweeper: $1 ids → stamps them dispatched after the broker confirmed. */
export const stampDispatched = `
update jobs set dispatched_at = now() where id = any($1::uuid[])`;

/** A claim arrived before run_after: forget the dispatch so the sweeper sends it when due. $1 id. */
export const clearDispatch = `
update jobs set dispatched_at = null where id = $1::uuid`;

/** $1 id → milliseconds until the job is due (≤ 0 when due now), by the database clock. */
export const msUntilDue = `
select greatest(0, ceil(extract(epoch from (run_after - now())) * 1000))::integer as ms
from jobs where id = $1::uuid`;

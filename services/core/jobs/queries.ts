// The SQL of the job repository, one statement per constant. Lowercase, typed placeholders.
// Every statement that changes a job runs inside the caller's transaction, after `lockJob`.

/**
 * $1 id → the full row plus `not_due` (still in retry backoff, by the database clock), locked
 * until the transaction ends: the per-job serialisation point of every transition.
 */
export const lockJob = `
select *, run_after > now() as not_due from jobs where id = $1::uuid for update`;

/** $1 id → the full row, no lock (reads). */
export const getJob = `
select * from jobs where id = $1::uuid`;

/** $1 idempotency key → the full row of the job first submitted with it. */
export const getJobByIdempotencyKey = `
select * from jobs where idempotency_key = $1::text`;

/**
 * $1 id, $2 type, $3 payload, $4 max_attempts, $5 idempotency key → the new row, or no row when
 * the key was used before (the caller then reads the first job).
 */
export const insertJob = `
insert into jobs (id, type, state, payload, max_attempts, idempotency_key)
values ($1::uuid, $2::text, 'PENDING', $3::jsonb, $4::integer, $5::text)
on conflict (idempotency_key) do nothing
returning *`;

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
returning *`;

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
select * from updated`;

/** $1 job id, $2 from, $3 to, $4 worker id, $5 attempt, $6 claim, $7 reason → the audit row. */
export const insertTransition = `
insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
values ($1::uuid, $2::text, $3::text, $4::text, $5::integer, $6::bigint, $7::text)
returning *`;

/** $1 job id → its audit log, oldest first. */
export const listTransitions = `
select * from job_transitions where job_id = $1::uuid order by seq`;

/**
 * Marks the current PENDING spell as dispatched. $1 id, $2 claim → the row, or none when the job
 * moved on meanwhile (claimed, cancelled, or re-queued under a new claim) and the mark no longer applies.
 */
export const markDispatched = `
update jobs set dispatched_at = now()
where id = $1::uuid and claim = $2::bigint and state = 'PENDING' and dispatched_at is null
returning *`;

/**
 * Extends the lease of the claim holder. $1 id, $2 claim, $3 lease ms → the row, or none when
 * the claim is no longer current (reaped and taken over: the caller must stop).
 */
export const renewLease = `
update jobs set lease_expires_at = now() + $3::integer * interval '1 millisecond'
where id = $1::uuid and claim = $2::bigint and state = 'RUNNING'
returning *`;

/**
 * Picks one RUNNING job whose lease expired, locked; rows another reaper holds are skipped, so
 * several workers reap side by side without waiting or double-reaping. No parameters.
 */
export const lockOneExpired = `
select * from jobs
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
select * from jobs
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
select * from jobs
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

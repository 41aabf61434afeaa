// The SQL of retention (docs/storage.md), one statement per constant; see retention.ts.

/**
 * Deletes one batch of final jobs past retention. $1 state, $2 retention seconds, $3 batch size
 * → the ids deleted. Rows another transaction holds are skipped (a retry or a concurrent pass
 * has them), so a batch never waits on the hot path. Audit rows in range partitions are not
 * deleted here: they go with their partition (JobRetention.maintainPartitions); until then they
 * are orphans no read returns. Audit rows in the default partition (survivors of a dropped
 * partition, ids outside every range) have no partition to go with, so the same statement
 * deletes those, one index probe per job.
 */
export const deleteExpiredJobs = `
with doomed as (
  select id from jobs
  where state = $1::text and updated_at < now() - $2::integer * interval '1 second'
  order by updated_at
  limit $3::integer
  for update skip locked
),
gone as (
  delete from jobs j using doomed d where j.id = d.id
  returning j.id
),
audit as (
  delete from job_transitions_default t using gone g where t.job_id = g.id
)
select id from gone`;

/**
 * The ids below which the default partition holds rows in [$1, $2) of ids: whether a range
 * partition for that span can still be created (Postgres refuses one the default has rows for).
 */
export const defaultHasRowsInRange = `
select exists (select 1 from job_transitions_default where job_id >= $1::uuid and job_id < $2::uuid) as has_rows`;

/** The range partitions of job_transitions with their bounds (null for minvalue). No parameters. */
export const listPartitions = `
select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
where i.inhparent = 'job_transitions'::regclass`;

/** Jobs that still exist in [$1, $2) of ids (a partition's range). $3 limit → ids. */
export const jobsInRange = `
select id from jobs where id >= $1::uuid and id < $2::uuid limit $3::integer`;

// The SQL of retention (docs/storage.md), one statement per constant; see retention.ts.

/**
 * Deletes one batch of final jobs past retention. $1 state, $2 retention seconds, $3 batch size
 * → the ids deleted. Rows another transaction holds are skipped (a retry or a concurrent pass
 * has them), so a batch never waits on the hot path. Audit rows are not deleted here: they go
 * with their partition (dropExpiredPartition); until then they are orphans no read returns.
 */
export const deleteExpiredJobs = `
with doomed as (
  select id from jobs
  where state = $1::text and updated_at < now() - $2::integer * interval '1 second'
  order by updated_at
  limit $3::integer
  for update skip locked
)
delete from jobs j using doomed d where j.id = d.id
returning j.id`;

/**
 * Deletes up to $1 audit rows of the default partition whose job no longer exists (ids that fell
 * outside every range partition, and the survivors moved there when their partition was dropped)
 * → the number deleted.
 */
export const deleteDefaultOrphans = `
delete from job_transitions_default
where ctid = any(array(
  select t.ctid from job_transitions_default t
  where not exists (select 1 from jobs j where j.id = t.job_id)
  limit $1::integer))`;

/** The range partitions of job_transitions with their bounds (null for minvalue). No parameters. */
export const listPartitions = `
select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
from pg_inherits i
join pg_class c on c.oid = i.inhrelid
where i.inhparent = 'job_transitions'::regclass`;

/** Jobs that still exist in [$1, $2) of ids (a partition's range). $3 limit → ids. */
export const jobsInRange = `
select id from jobs where id >= $1::uuid and id < $2::uuid limit $3::integer`;

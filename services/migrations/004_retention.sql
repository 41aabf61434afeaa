-- 004: bounded storage (docs/storage.md).
--
-- 1. The retention pass deletes final jobs by age in small batches; this partial index finds
--    them oldest first without touching PENDING or RUNNING rows.
-- 2. job_transitions becomes a table partitioned by range of job_id. Job ids are UUIDv7, whose
--    first 48 bits are the creation time in ms, so one partition holds every audit row of the
--    jobs created in one time span, and a span whose jobs are all past retention is dropped
--    whole instead of deleted row by row. The worker's maintenance loop creates partitions
--    ahead and drops expired ones (services/core/jobs/retention.ts).
--
-- Converting an existing table, safely and without rewriting it:
--   - the old table is renamed and attached as the partition for every id below the cutover
--     (this migration's start, which no UUIDv7 generated afterwards can be below); attaching
--     validates the range with one read-only scan, and the old (job_id, seq) index is reused as
--     the partition's index, so nothing is rebuilt;
--   - rows whose id is not below the cutover (ids supplied from outside, not UUIDv7) move to the
--     default partition first, so the attach cannot fail;
--   - the foreign key to jobs goes: retention deletes jobs without cascading to their audit rows
--     (those go with their partition), and the audit row is written in the same statement as
--     the job row it describes, so nothing else can orphan one. The seq primary key goes too:
--     a primary key of a partitioned table must contain the partition key, and (job_id, seq)
--     already serves every read;
--   - the sequence is re-owned by the new parent, so dropping the old partition later keeps it.

create index jobs_finished_idx on jobs (state, updated_at) where state in ('COMPLETED', 'FAILED', 'CANCELLED');

-- The smallest UUIDv7 of the millisecond `t`: the partition bound for jobs created from `t` on.
create function jobstack_uuidv7_floor(t timestamptz) returns uuid
language sql immutable strict parallel safe
as $$ select (lpad(to_hex(floor(extract(epoch from t) * 1000)::bigint), 12, '0') || '00000000000000000000')::uuid $$;

alter table job_transitions rename to job_transitions_legacy;
alter table job_transitions_legacy drop constraint job_transitions_job_id_fkey;
alter table job_transitions_legacy drop constraint job_transitions_pkey;
alter index job_transitions_job_idx rename to job_transitions_legacy_job_idx;

create table job_transitions (
  seq        bigint not null default nextval('job_transitions_seq_seq'),
  job_id     uuid not null,
  from_state text,                                      -- null for the creation row
  to_state   text not null,
  at         timestamptz not null default now(),
  worker_id  text,
  attempt    integer not null,
  claim      bigint not null,
  reason     text
) partition by range (job_id);
alter sequence job_transitions_seq_seq owned by job_transitions.seq;
alter table job_transitions_legacy alter column seq set default nextval('job_transitions_seq_seq');

-- GET /jobs/:id/transitions reads one job's log in order; created on every partition.
create index job_transitions_job_idx on job_transitions (job_id, seq);

-- Ids outside every range partition (not UUIDv7, or a span the maintenance loop had not
-- created yet). Kept small: the retention pass deletes its rows once their job is gone.
create table job_transitions_default partition of job_transitions default;

insert into job_transitions_default
select seq, job_id, from_state, to_state, at, worker_id, attempt, claim, reason
from job_transitions_legacy where job_id >= jobstack_uuidv7_floor(now());
delete from job_transitions_legacy where job_id >= jobstack_uuidv7_floor(now());

do $$
begin
  execute format(
    'alter table job_transitions attach partition job_transitions_legacy for values from (minvalue) to (%L)',
    jobstack_uuidv7_floor(now()));
end $$;

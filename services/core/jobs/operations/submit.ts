// Submitting jobs: insert a PENDING row and its audit row (`→ PENDING`, "submitted") in one
// statement, so one transaction and one round trip; or read the job a key was first used for.

import { firstRow, type Operation } from "../operation.js";
import { JOB_COLUMNS, rowToJob, type JobRow } from "../rows.js";
import type { Job } from "../types.js";

/** One job to insert. */
export interface NewJob {
  readonly id: string;
  readonly type: string;
  /** JSON text. */
  readonly payload: string;
  readonly maxAttempts: number;
  readonly key: string | null;
}

/** $1 id, $2 type, $3 payload, $4 max_attempts, $5 idempotency key (the insert of submitJob). */
const insertJob = `
insert into jobs (id, type, state, payload, max_attempts, idempotency_key)
values ($1::uuid, $2::text, 'PENDING', $3::jsonb, $4::integer, $5::text)
on conflict (idempotency_key) do nothing
returning ${JOB_COLUMNS}`;

/**
 * The insert and its audit row. $1 id, $2 type, $3 payload, $4 max_attempts, $5 idempotency key
 * → the new job, or null when the key was used before (then nothing at all was written, not
 * even the audit row; the caller reads the first job).
 */
export const submitJob: Operation<NewJob, Job | null> = {
  name: "jobstack_submit",
  text: `
with inserted as (${insertJob.trim()}),
audit as (
  insert into job_transitions (job_id, from_state, to_state, worker_id, attempt, claim, reason)
  select id, null, state, null, attempts, claim, 'submitted' from inserted
)
select ${JOB_COLUMNS} from inserted`,
  values: (j) => [j.id, j.type, j.payload, j.maxAttempts, j.key],
  result: firstRow(rowToJob),
};

/**
 * submitJob for several jobs in one statement. $1 ids, $2 types, $3 payloads (JSON text),
 * $4 max_attempts, $5 idempotency keys — arrays of one length → per input, in order, the new
 * job, or null when its key was used before (by an earlier job or by an earlier item of this
 * batch: then it wrote nothing).
 */
export const submitJobs: Operation<readonly NewJob[], (Job | null)[]> = {
  name: "jobstack_submit_many",
  text: `
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
select ${JOB_COLUMNS} from inserted`,
  values: (items) => [items.map((j) => j.id), items.map((j) => j.type), items.map((j) => j.payload), items.map((j) => j.maxAttempts), items.map((j) => j.key)],
  result: (r, items) => {
    const byId = new Map((r.rows as JobRow[]).map((row) => [row.id, row]));
    return items.map((j) => {
      const row = byId.get(j.id.toLowerCase());
      return row ? rowToJob(row) : null;
    });
  },
};

/** $1 idempotency key → the job first submitted with it, or null. */
export const getJobByIdempotencyKey: Operation<string | null, Job | null> = {
  text: `
select ${JOB_COLUMNS} from jobs where idempotency_key = $1::text`,
  values: (key) => [key],
  result: firstRow(rowToJob),
};

/** $1 idempotency keys → the jobs first submitted with them (any order; keys without a job are absent). */
export const getJobsByIdempotencyKeys: Operation<readonly string[], Map<string, Job>> = {
  name: "jobstack_get_by_keys",
  text: `
select ${JOB_COLUMNS} from jobs where idempotency_key = any($1::text[])`,
  values: (keys) => [keys],
  result: (r) => new Map((r.rows as JobRow[]).map((row) => [row.idempotency_key!, rowToJob(row)])),
};

// Leases: renewing the claim holder's, finding expired ones for the reaper, and the database
// clock's answer to "when is this job due".

import { changedAny, firstRow, type Operation } from "../operation.js";
import { JOB_COLUMNS, rowToJob } from "../rows.js";
import type { HeldLease, Job } from "../types.js";

/**
 * Extends the lease of the claim holder. $1 id, $2 claim, $3 lease ms → true when one row was
 * updated; false when the claim is no longer current (reaped and taken over: the caller must stop).
 */
export const renewLease: Operation<{ readonly id: string; readonly claim: number; readonly leaseMs: number }, boolean> = {
  name: "jobstack_renew_lease",
  text: `
update jobs set lease_expires_at = now() + $3::integer * interval '1 millisecond'
where id = $1::uuid and claim = $2::bigint and state = 'RUNNING'`,
  values: (l) => [l.id, l.claim, l.leaseMs],
  result: changedAny,
};

/**
 * renewLease for many leases in one statement: a worker renews every lease it holds at once,
 * instead of one statement per job per tick (with claim ahead it holds several times its
 * concurrency). $1 ids (each at most once), $2 their claims, $3 lease ms → the input ids whose
 * claim is still current (state RUNNING and the same claim); the others are lost. Rows are
 * locked in id order, like the batched moves, so it never waits for one of them in a cycle.
 */
export const renewLeases: Operation<{ readonly held: readonly HeldLease[]; readonly leaseMs: number }, Set<string>> = {
  name: "jobstack_renew_leases",
  text: `
with held as (
  select j.id, j.claim from jobs j join unnest($1::uuid[], $2::bigint[]) as h(id, claim) on j.id = h.id and j.claim = h.claim
  where j.state = 'RUNNING'
  order by j.id
  for update of j
)
update jobs j set lease_expires_at = now() + $3::integer * interval '1 millisecond'
from held h
where j.id = h.id and j.claim = h.claim and j.state = 'RUNNING'
returning j.id, j.claim`,
  values: (r) => [r.held.map((l) => l.id), r.held.map((l) => l.claim), r.leaseMs],
  result: (r, { held }) => {
    const renewed = new Set((r.rows as { id: string; claim: string }[]).map((row) => `${row.id}/${row.claim}`));
    return new Set(held.filter((l) => renewed.has(`${l.id.toLowerCase()}/${l.claim}`)).map((l) => l.id));
  },
};

/**
 * Picks one RUNNING job whose lease expired, locked; rows another reaper holds are skipped, so
 * several workers reap side by side without waiting or double-reaping. No parameters → the
 * job, or null when none expired.
 */
export const lockOneExpired: Operation<void, Job | null> = {
  text: `
select ${JOB_COLUMNS} from jobs
where state = 'RUNNING' and lease_expires_at < now()
order by lease_expires_at
limit 1
for update skip locked`,
  values: () => [],
  result: firstRow(rowToJob),
};

/** $1 id → milliseconds until the job is due (≤ 0 when due now), by the database clock; 0 for no job. */
export const msUntilDue: Operation<string, number> = {
  text: `
select greatest(0, ceil(extract(epoch from (run_after - now())) * 1000))::integer as ms
from jobs where id = $1::uuid`,
  values: (id) => [id],
  result: (r) => (r.rows[0] as { ms: number } | undefined)?.ms ?? 0,
};

// The SQL of job search (GET /jobs), of the bulk actions' selection, and of the system's counts
// (GET /jobs/stats and the api's gauges). Pure: builds statements and their values, runs nothing.
//
// Search reads one index range per requested state and merges them: a lateral subquery per
// state walks jobs_state_created_idx (or jobs_type_state_created_idx when a type is given;
// migration 003) newest first and stops after `limit` rows, and the outer query keeps the
// newest `limit` of those. A plain `state = any($1)` … `order by created_at desc` cannot use the
// index order across several states and would sort every matching row; this reads at most
// states × limit index entries whatever the table's size (bench/search.ts measures it).

import { JOB_STATES, type JobState } from "../states.js";
import { JOB_COLUMNS } from "./rows.js";

/** What a search or a bulk action matches. Every field narrows; absent means "any". */
export interface JobFilter {
  /** @default every state */
  readonly states?: readonly JobState[] | undefined;
  readonly type?: string | undefined;
  /** ISO 8601 instant; matches created_at strictly after it. */
  readonly createdAfter?: string | undefined;
  /** ISO 8601 instant; matches created_at strictly before it. */
  readonly createdBefore?: string | undefined;
  /** Only these jobs (the dashboard's selection). */
  readonly ids?: readonly string[] | undefined;
}

/**
 * A position in the newest-first order: the last row of the previous page. created_at is
 * carried in whole microseconds since the epoch (Postgres' precision; a JS Date would round it
 * to milliseconds and skip or repeat rows that share a millisecond).
 */
export interface Keyset {
  readonly createdAtMicros: string;
  readonly id: string;
}

export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

/**
 * Jobs matching `filter` after `after` in the order (created_at desc, id desc), at most `limit`.
 * `columns` is what each row carries besides `created_us` (the keyset's microseconds, as text).
 */
export function searchStatement(filter: JobFilter, after: Keyset | null, limit: number, columns: string = JOB_COLUMNS): Statement {
  const values: unknown[] = [];
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const states = param(filter.states && filter.states.length > 0 ? [...new Set(filter.states)] : [...JOB_STATES], "text[]");
  const where = ["j.state = s.state"];
  if (filter.type !== undefined) where.push(`j.type = ${param(filter.type, "text")}`);
  if (filter.createdAfter !== undefined) where.push(`j.created_at > ${param(filter.createdAfter, "timestamptz")}`);
  if (filter.createdBefore !== undefined) where.push(`j.created_at < ${param(filter.createdBefore, "timestamptz")}`);
  if (filter.ids !== undefined) where.push(`j.id = any(${param(filter.ids, "uuid[]")})`);
  if (after !== null) {
    const at = `timestamptz 'epoch' + ${param(after.createdAtMicros, "bigint")} * interval '1 microsecond'`;
    where.push(`(j.created_at, j.id) < (${at}, ${param(after.id, "uuid")})`);
  }
  const n = param(limit, "integer");
  const cols = columns
    .split(", ")
    .map((c) => `j.${c}`)
    .join(", ");
  const text = `
select m.*, (extract(epoch from m.created_at) * 1000000)::bigint::text as created_us
from unnest(${states}) as s(state)
cross join lateral (
  select ${cols} from jobs j
  where ${where.join("\n    and ")}
  order by j.created_at desc, j.id desc
  limit ${n}
) m
order by m.created_at desc, m.id desc
limit ${n}`;
  return { text, values };
}

/** No parameters → one row per (type, state) present, with its count. */
export const countByTypeAndState = `
select type, state, count(*)::bigint as n from jobs group by type, state`;

/**
 * No parameters → seconds since the longest-waiting PENDING job became due (run_after; a job in
 * retry backoff is not waiting yet), 0 when none is; by the database clock.
 * Uses jobs_pending_run_after_idx (migration 003).
 */
export const oldestPendingAge = `
select coalesce(extract(epoch from now() - min(run_after)), 0)::float8 as seconds
from jobs where state = 'PENDING' and run_after <= now()`;

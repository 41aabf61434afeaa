/**
 * Checks that what GET /jobs/:id answers (from Redis or Postgres) matches Postgres.
 *
 * Each checked read is bracketed by two reads of the job's audit log straight from Postgres:
 * the api's answer must be a state the job really held (its state and updatedAt match one
 * transition, since every transition stamps both in one statement), it must not be from the
 * future (no later than the log after the read), and it may be older than the log before the
 * read only within the documented bound of the cache (CACHE_ACTIVE_TTL_SECONDS after the newer
 * state was committed, plus `slackMs` for the write that was in flight; see services/core/cache.ts).
 *
 * `finalReadsMatch` is the settled case: once every job is final and the active TTL has passed,
 * every answer must equal Postgres exactly.
 */
import type { Cluster } from "../../../harness/cluster.js";

interface LogRow {
  to_state: string;
  at: Date;
}

export interface StatusCheck {
  reads: number;
  fromCache: number;
  stale: number;
  /** The longest a stale answer lagged behind the newer state's commit, in ms. */
  maxStaleMs: number;
  problems: string[];
}

export function newStatusCheck(): StatusCheck {
  return { reads: 0, fromCache: 0, stale: 0, maxStaleMs: 0, problems: [] };
}

async function auditLog(c: Cluster, id: string): Promise<LogRow[]> {
  const { rows } = await c.pool.query<LogRow>("select to_state, at from job_transitions where job_id = $1::uuid order by seq", [id]);
  return rows;
}

/** One bracketed read; problems go into `check.problems`. */
export async function checkedRead(c: Cluster, id: string, check: StatusCheck, activeTtlMs: number, slackMs = 1_000): Promise<void> {
  const before = await auditLog(c, id);
  const startedAt = Date.now();
  const r = await c.status(id);
  const after = await auditLog(c, id);
  check.reads++;
  if (r.status !== 200 || !r.body) {
    check.problems.push(`GET /jobs/${id} answered ${r.status}`);
    return;
  }
  if (r.source === "cache") check.fromCache++;
  const state = r.body.state as string;
  const updatedAt = r.body.updatedAt as string;
  const index = after.findIndex((t) => t.to_state === state && t.at.toISOString() === updatedAt);
  if (index < 0) {
    check.problems.push(`GET /jobs/${id} answered ${state} at ${updatedAt}, a state Postgres never recorded (log: ${after.map((t) => `${t.to_state}@${t.at.toISOString()}`).join(", ")})`);
    return;
  }
  if (index < before.length - 1) {
    const newer = after[index + 1]!;
    const lag = startedAt - newer.at.getTime();
    check.stale++;
    check.maxStaleMs = Math.max(check.maxStaleMs, lag);
    if (lag > activeTtlMs + slackMs) {
      check.problems.push(`GET /jobs/${id} answered ${state} (${r.source}) ${lag} ms after Postgres committed ${newer.to_state}, beyond the ${activeTtlMs} ms bound`);
    }
  }
}

/** Every job read through the api equals its row in Postgres (state, attempts, updatedAt, result). */
export async function finalReadsMatch(c: Cluster, ids: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const { rows } = await c.pool.query<{ id: string; state: string; attempts: number; updated_at: Date; result: unknown }>(
    "select id, state, attempts, updated_at, result from jobs where id = any($1::uuid[])",
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const r = await c.status(id);
      const row = byId.get(id);
      const want = row && { state: row.state, attempts: row.attempts, updatedAt: row.updated_at.toISOString(), result: row.result };
      const got = r.body && { state: r.body.state, attempts: r.body.attempts, updatedAt: r.body.updatedAt, result: r.body.result };
      if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`GET /jobs/${id} (${r.source}) = ${JSON.stringify(got)}, Postgres has ${JSON.stringify(want)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return problems;
}

/** Runs bracketed reads of random acknowledged jobs with `lanes` readers until `stop()` is true. */
export async function readContinuously(c: Cluster, check: StatusCheck, activeTtlMs: number, stop: () => boolean, lanes = 3): Promise<void> {
  const lane = async () => {
    while (!stop()) {
      const ids = c.acknowledgedIds();
      if (ids.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      try {
        await checkedRead(c, id, check, activeTtlMs);
      } catch (err) {
        check.problems.push(`read of ${id} failed: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

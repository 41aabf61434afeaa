// How a row of `jobs` and of `job_transitions` becomes the public shapes (types.ts): the column
// list every statement reads, the row types, and their mapping. Shared by every operation.
//
// Rows are read with an explicit column list, not `*`: the hot statements are named prepared
// statements, and a prepared `select *` fails with "cached plan must not change result type"
// once a migration adds a column under a running process.

import type { JobState } from "../states.js";
import type { Job, Transition } from "./types.js";

/** The columns of `jobs` that JobRow maps, in one place. */
export const JOB_COLUMNS =
  "id, type, state, payload, result, error, attempts, max_attempts, idempotency_key, claim, locked_by, lease_expires_at, run_after, dispatched_at, version, created_at, updated_at";

/** JOB_COLUMNS qualified by a table alias (`j.id, j.type, …`). */
export const jobColumnsOf = (alias: string): string =>
  JOB_COLUMNS.split(", ")
    .map((c) => `${alias}.${c}`)
    .join(", ");

export interface JobRow {
  id: string;
  type: string;
  state: JobState;
  payload: unknown;
  result: unknown;
  error: unknown;
  attempts: number;
  max_attempts: number;
  idempotency_key: string | null;
  claim: string | number;
  locked_by: string | null;
  lease_expires_at: Date | null;
  run_after: Date;
  dispatched_at: Date | null;
  version: string | number;
  created_at: Date;
  updated_at: Date;
}

export interface TransitionRow {
  seq: string | number;
  from_state: JobState | null;
  to_state: JobState;
  at: Date;
  worker_id: string | null;
  attempt: number;
  claim: string | number;
  reason: string | null;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    payload: row.payload,
    result: row.result ?? null,
    error: row.error ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: Number(row.version),
    claim: Number(row.claim),
    idempotencyKey: row.idempotency_key,
    lockedBy: row.locked_by,
    leaseExpiresAt: iso(row.lease_expires_at),
    runAfter: row.run_after.toISOString(),
    dispatchedAt: iso(row.dispatched_at),
  };
}

export function rowToTransition(row: TransitionRow): Transition {
  return {
    seq: Number(row.seq),
    from: row.from_state,
    to: row.to_state,
    at: row.at.toISOString(),
    workerId: row.worker_id,
    attempt: row.attempt,
    claim: Number(row.claim),
    reason: row.reason,
  };
}

/** A value as JSON text for a `::jsonb` parameter; undefined and null are SQL null. */
export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Normalises a handler's error into the JSON stored in jobs.error. */
export function errorToJson(err: unknown): { message: string; name?: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  if (typeof err === "string") return { message: err };
  if (err && typeof err === "object" && typeof (err as { message?: unknown }).message === "string") {
    return err as { message: string };
  }
  return { message: String(err) };
}

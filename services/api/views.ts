/**
 * The JSON shapes the API answers with (design §4). Internal fields (`payload`, `version`,
 * lease and claim columns) stay inside: clients see state, not bookkeeping.
 */
import type { Job, Transition } from "../core/jobs/types.js";

export interface JobView {
  id: string;
  type: string;
  state: Job["state"];
  attempts: number;
  maxAttempts: number;
  result: unknown;
  error: unknown;
  createdAt: string;
  updatedAt: string;
}

export function jobView(job: Job): JobView {
  return {
    id: job.id,
    type: job.type,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    result: job.result ?? null,
    error: job.error ?? null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export type TransitionView = Pick<Transition, "seq" | "from" | "to" | "at" | "workerId" | "attempt" | "reason">;

export function transitionView(t: Transition): TransitionView {
  return { seq: t.seq, from: t.from, to: t.to, at: t.at, workerId: t.workerId, attempt: t.attempt, reason: t.reason };
}

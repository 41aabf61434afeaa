/**
 * The JSON shapes the API answers with (docs/openapi.json, from response-schemas.ts). Internal fields (`payload`, `version`,
 * lease and claim columns) stay inside: clients see state, not bookkeeping.
 */
import type { z } from "zod";
import type { Job, Transition } from "../core/jobs/types.js";
import type { JobDetailSchema, JobViewSchema, TransitionViewSchema } from "./response-schemas.js";

/** Inferred from the schema docs/openapi.json is generated from (services/api/response-schemas.ts). */
export type JobView = z.infer<typeof JobViewSchema>;

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

export type JobDetailView = z.infer<typeof JobDetailSchema>;

/** A job with its payload (`GET /jobs/:id`); lists and transitions answer `jobView`. */
export function jobDetailView(job: Job): JobDetailView {
  return { ...jobView(job), payload: job.payload ?? null };
}

export type TransitionView = z.infer<typeof TransitionViewSchema>;

export function transitionView(t: Transition): TransitionView {
  return { seq: t.seq, from: t.from, to: t.to, at: t.at, workerId: t.workerId, attempt: t.attempt, reason: t.reason };
}

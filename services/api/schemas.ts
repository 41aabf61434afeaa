/**
 * Request schemas (zod) and the one function that applies them.
 *
 * Validation happens in the handlers with zod rather than through fastify's JSON-schema (ajv)
 * layer: one validator, zod's messages, and a 400 whose details name the request part and the
 * field — `{"part": "body", "path": "maxAttempts", "message": "..."}` — in the API's error shape.
 */
import { z } from "zod";
import { UUID_PATTERN } from "../core/uuid.js";
import { ApiError } from "./http-errors.js";

export type RequestPart = "body" | "params" | "query";

/** Upper bound of `maxAttempts`; more than this is a runaway retry loop, not a policy. */
export const MAX_ATTEMPTS_LIMIT = 100;

export const SubmitJobBody = z
  .strictObject({
    type: z.string().min(1).max(100),
    /** Handed to the handler as is; handlers validate their own payload. @default {} */
    payload: z.unknown().optional(),
    /** @default the repository's default (see services/core/jobs) */
    maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT).optional(),
    /** Same key again → the first job, never a second one. */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .meta({ examples: [{ type: "sleep", payload: { ms: 500 }, maxAttempts: 3, idempotencyKey: "order-1234-confirmation" }] });
export type SubmitJobBody = z.infer<typeof SubmitJobBody>;

/** Most jobs one `POST /jobs/batch` may carry. */
export const MAX_BATCH_JOBS = 1000;

export const SubmitJobsBody = z
  .strictObject({
    /** Each item as the body of POST /jobs, with its own idempotencyKey. */
    jobs: z.array(SubmitJobBody).min(1).max(MAX_BATCH_JOBS),
  })
  .meta({
    examples: [
      {
        jobs: [
          { type: "sleep", payload: { ms: 500 }, idempotencyKey: "order-1234-confirmation" },
          { type: "noop", idempotencyKey: "order-1234-receipt" },
        ],
      },
    ],
  });
export type SubmitJobsBody = z.infer<typeof SubmitJobsBody>;

export const JobIdParams = z.object({ id: z.string().regex(UUID_PATTERN, "must be a UUID") });
export type JobIdParams = z.infer<typeof JobIdParams>;

export interface ValidationIssue {
  part: RequestPart;
  path: string;
  message: string;
}

/** Parses one part of a request, or throws a 400 `ApiError` listing every issue at once. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: RequestPart): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    part,
    path: [...issue.path.map(String), ...issueKeys(issue)].join("."),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.part}${i.path ? `.${i.path}` : ""}: ${i.message}`).join("; ");
  throw new ApiError(400, "bad_request", `invalid request ${part}: ${summary}`, issues);
}

/** Unrecognized keys are reported at the object's path; name them so the client sees which field. */
function issueKeys(issue: z.core.$ZodIssue): string[] {
  return issue.code === "unrecognized_keys" ? [issue.keys.join(",")] : [];
}

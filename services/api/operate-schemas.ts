/**
 * Request schemas of the operator routes: `GET /jobs` (search), `POST /jobs/retry` and
 * `POST /jobs/cancel` (bulk). The handlers validate with these, and docs/openapi.json is
 * generated from them (services/api/openapi.ts), so the two cannot drift.
 */
import { z } from "zod";
import { JOB_STATES, type JobState } from "../core/states.js";
import { UUID_PATTERN } from "../core/uuid.js";

/** Page size of `GET /jobs`. */
export const SEARCH_LIMIT = { default: 50, max: 500 } as const;
/** Largest `filter.ids` list of a bulk action. */
export const BULK_IDS_MAX = 1000;

export const JobStateSchema = z.enum(JOB_STATES as [JobState, ...JobState[]]);

/** `?state=FAILED&state=PENDING` or `?state=FAILED,PENDING`: one list either way. */
const StatesParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(","))
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .pipe(z.array(JobStateSchema).min(1, { error: "names no state" }))
  .meta({
    description: `One or several of ${JOB_STATES.join(", ")}: repeat the parameter or separate the states with commas.`,
    examples: ["FAILED", "PENDING,RUNNING"],
  });

const Instant = (what: string) =>
  z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date-time with a zone, e.g. 2026-01-31T12:00:00Z" })
    // Postgres has no year 0 (it would answer an error, and the client a 500).
    .refine((v) => !v.startsWith("0000"), { error: "must be in year 0001 or later" })
    .meta({
    description: `Only jobs created strictly ${what} this instant.`,
    examples: ["2026-01-31T12:00:00Z"],
  });

const JobType = z.string().min(1).max(100).meta({ description: "Only jobs of this type.", examples: ["sleep"] });

/** `createdAfter` must come before `createdBefore`, when both are given. */
function orderedRange(v: { createdAfter?: string | undefined; createdBefore?: string | undefined }, ctx: z.RefinementCtx): void {
  if (v.createdAfter !== undefined && v.createdBefore !== undefined && Date.parse(v.createdAfter) >= Date.parse(v.createdBefore)) {
    ctx.addIssue({ code: "custom", path: ["createdBefore"], message: "must be later than createdAfter" });
  }
}

export const SearchJobsQuery = z
  .strictObject({
    state: StatesParam.optional(),
    type: JobType.optional(),
    createdAfter: Instant("after").optional(),
    createdBefore: Instant("before").optional(),
    limit: z.coerce
      .number({ error: "must be a number" })
      .int({ error: "must be an integer" })
      .min(1, { error: `must be between 1 and ${SEARCH_LIMIT.max}` })
      .max(SEARCH_LIMIT.max, { error: `must be between 1 and ${SEARCH_LIMIT.max}` })
      .default(SEARCH_LIMIT.default)
      .meta({ description: `Page size, 1–${SEARCH_LIMIT.max}.` }),
    cursor: z
      .string()
      .min(1)
      .max(1024)
      .meta({ description: "`nextCursor` of the previous page, unchanged, with the same filters. Opaque and signed: an edited cursor is a 400." })
      .optional(),
  })
  .superRefine(orderedRange);
export type SearchJobsQuery = z.infer<typeof SearchJobsQuery>;

/**
 * The filter of a bulk action. The states are the action's own (FAILED for retry, PENDING for
 * cancel); `state` may be given for symmetry with `GET /jobs` but must name only that one.
 * At least one of type, createdAfter, createdBefore or ids must narrow it: an empty filter is
 * refused, so no request moves every job by accident (to mean "all", say createdBefore=now).
 */
export function bulkFilter(source: JobState) {
  return z
    .strictObject({
      state: z
        .union([JobStateSchema, z.array(JobStateSchema)])
        .refine((v) => (Array.isArray(v) ? v : [v]).every((s) => s === source), {
          error: `this action only moves ${source} jobs; leave state out or set it to ${source}`,
        })
        .optional()
        .meta({ description: `Optional; only ${source} is accepted (the action's source state).` }),
      type: JobType.optional(),
      createdAfter: Instant("after").optional(),
      createdBefore: Instant("before").optional(),
      ids: z
        .array(z.string().regex(UUID_PATTERN, "must be a UUID"))
        .min(1)
        .max(BULK_IDS_MAX)
        .optional()
        .meta({ description: `Only these jobs (at most ${BULK_IDS_MAX}).` }),
    })
    .superRefine(orderedRange)
    .superRefine((v, ctx) => {
      if (v.type === undefined && v.createdAfter === undefined && v.createdBefore === undefined && v.ids === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: "must narrow the action with at least one of type, createdAfter, createdBefore, ids (an empty filter would move every job)",
        });
      }
    });
}

const bulkBody = (source: JobState, example: Record<string, unknown>) =>
  z.strictObject({ filter: bulkFilter(source) }).meta({ examples: [{ filter: example }] });

export const BulkRetryBody = bulkBody("FAILED", { type: "sleep", createdAfter: "2026-01-31T00:00:00Z" });
export const BulkCancelBody = bulkBody("PENDING", { type: "hash", createdBefore: "2026-01-31T12:00:00Z" });
export type BulkBody = z.infer<typeof BulkRetryBody>;

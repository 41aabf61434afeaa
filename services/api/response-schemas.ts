/**
 * The shapes the API answers with, as zod schemas: the types of services/api/views.ts are
 * inferred from them, and docs/openapi.json is generated from them (services/api/openapi.ts).
 */
import { z } from "zod";
import { JOB_STATES, type JobState } from "../core/states.js";
import { JobStateSchema } from "./operate-schemas.js";

const EXAMPLE_ID = "0193b5d2-7a4e-7c3a-9f1e-5b6c7d8e9f01";

/** The job the examples of the job schemas show. */
const EXAMPLE_JOB = {
  id: EXAMPLE_ID,
  type: "sleep",
  state: "COMPLETED",
  attempts: 1,
  maxAttempts: 3,
  result: { sleptMs: 500 },
  error: null,
  createdAt: "2026-01-31T12:00:00.000Z",
  updatedAt: "2026-01-31T12:00:00.512Z",
};

const Instant = z.iso.datetime({ offset: true });

export const JobViewSchema = z
  .object({
    id: z.uuid(),
    type: z.string(),
    state: JobStateSchema,
    attempts: z.int().min(0),
    maxAttempts: z.int().min(1),
    result: z.unknown().meta({ description: "The handler's result once COMPLETED, else null." }),
    error: z.unknown().meta({ description: "The last failure ({name?, message}) or null." }),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .meta({
    id: "Job",
    examples: [EXAMPLE_JOB],
  });

/** `GET /jobs/:id`: the job and the payload it was submitted with (lists leave the payload out). */
export const JobDetailSchema = JobViewSchema.extend({
  payload: z.unknown().meta({ description: "The payload the job was submitted with, as given." }),
}).meta({
  id: "JobDetail",
  examples: [{ ...EXAMPLE_JOB, payload: { ms: 500 } }],
});

export const TransitionViewSchema = z
  .object({
    seq: z.int(),
    from: JobStateSchema.nullable().meta({ description: "null for the creation row" }),
    to: JobStateSchema,
    at: Instant,
    workerId: z.string().nullable(),
    attempt: z.int(),
    reason: z.string().nullable(),
  })
  .meta({ id: "Transition" });

export const SearchPageSchema = z
  .object({
    items: z.array(JobViewSchema).meta({ description: "Newest first (created_at, then id)." }),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last page." }),
  })
  .meta({ id: "JobPage" });

const stateCounts = z.object(Object.fromEntries(JOB_STATES.map((s) => [s, z.int().min(0)])) as Record<JobState, z.ZodInt>);

export const StatsSchema = z
  .object({
    at: Instant.meta({ description: "When the counts were taken." }),
    byState: stateCounts.nullable().meta({ description: "Every state, 0 when none; null when Postgres did not answer." }),
    byType: z.record(z.string(), stateCounts).nullable().meta({ description: "Per job type, every state." }),
    oldestPendingSeconds: z.number().min(0).nullable().meta({ description: "How long the longest-waiting due PENDING job has waited." }),
    queue: z
      .object({
        name: z.string(),
        ready: z.int().min(0).meta({ description: "Messages ready for delivery (AMQP passive declare)." }),
        unacked: z
          .int()
          .min(0)
          .nullable()
          .meta({
            description:
              "Delivered but unacknowledged messages, from RabbitMQ's management API when RABBITMQ_MANAGEMENT_URL is set (AMQP itself cannot report them; up to 5 s old); else null. RUNNING jobs are the ones workers hold.",
          }),
        consumers: z.int().min(0),
        deadLetterQueue: z.string(),
        deadLettered: z.int().min(0).meta({ description: "Messages in the dead-letter queue." }),
      })
      .nullable()
      .meta({ description: "null when RabbitMQ did not answer." }),
  })
  .meta({ id: "Stats" });

export const SubmitBatchResultSchema = z
  .object({
    items: z
      .array(
        z.object({
          job: JobViewSchema,
          created: z.boolean().meta({ description: "false: the item's idempotencyKey was used before (by an earlier request or an earlier item), and `job` is that first job." }),
        }),
      )
      .meta({ description: "One per submitted item, in request order." }),
  })
  .meta({ id: "SubmitBatchResult" });

export const BulkResultSchema = z
  .object({ moved: z.int().min(0).meta({ description: "Jobs moved (each audited)." }) })
  .meta({ id: "BulkResult", examples: [{ moved: 42 }] });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: "Stable, machine-readable: bad_request, unauthorized, forbidden, not_found, conflict, …" }),
      message: z.string(),
      details: z.unknown().meta({ description: "For a 400: [{part, path, message}] naming each bad request part and field." }),
    }),
  })
  .meta({
    id: "Error",
    examples: [
      {
        error: {
          code: "bad_request",
          message: "invalid request query: limit: must be between 1 and 500",
          details: [{ part: "query", path: "limit", message: "must be between 1 and 500" }],
        },
      },
    ],
  });

export const HealthSchema = z.object({ status: z.literal("ok") }).meta({ id: "Health" });

export const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    dependencies: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
  })
  .meta({ id: "Readiness" });

/**
 * The API's OpenAPI 3.1 description, generated from the zod schemas the handlers validate with
 * (services/api/schemas.ts, operate-schemas.ts) and the ones their answers follow
 * (response-schemas.ts), with zod 4's `z.toJSONSchema`: one source, so it cannot drift.
 *
 * Served at `GET /openapi.json` and committed as docs/openapi.json; after changing a route or
 * a schema, `npm run openapi` rewrites the file (a test fails until it matches). A new route is
 * added to ROUTES below; a test checks that every route fastify registers is described here
 * and that every route described here exists.
 */
import { z } from "zod";
import { JobIdParams, MAX_BATCH_JOBS, SubmitJobBody, SubmitJobsBody } from "./schemas.js";
import { UI_FILES, type UiFile } from "./routes/ui.js";
import { BulkCancelBody, BulkRetryBody, SearchJobsQuery } from "./operate-schemas.js";
import {
  BulkResultSchema,
  ErrorSchema,
  HealthSchema,
  JobDetailSchema,
  JobViewSchema,
  ReadinessSchema,
  SearchPageSchema,
  SubmitBatchResultSchema,
  StatsSchema,
  TransitionViewSchema,
} from "./response-schemas.js";

type Access = "public" | "submit" | "operator";
type Schema = z.ZodType;

interface Answer {
  readonly description: string;
  /** JSON body schema; a string is a non-JSON media type with a text body. */
  readonly body?: Schema | { readonly mediaType: string };
}

export interface RouteDoc {
  readonly method: "GET" | "POST";
  /** fastify's pattern (`/jobs/:id`); rendered as `/jobs/{id}`. */
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "jobs" | "operate" | "system";
  readonly access: Access;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: Schema;
  readonly answers: Readonly<Record<number, Answer>>;
}

const err = (description: string): Answer => ({ description, body: ErrorSchema });
const BAD = err("Bad request: `details` names each bad part (body, query, params) and field.");
const JOB = { description: "The job.", body: JobViewSchema } satisfies Answer;
const NOT_FOUND = err("No such job.");

/** Every route the api serves. */
export const ROUTES: readonly RouteDoc[] = [
  {
    method: "POST",
    url: "/jobs",
    operationId: "submitJob",
    summary: "Submit a job",
    description: "Committed as PENDING, then published. The same `idempotencyKey` again answers the first job, never a second one.",
    tag: "jobs",
    access: "submit",
    body: SubmitJobBody,
    answers: {
      202: JOB,
      400: err("Bad body, a type no handler is registered for, or a payload its handler refuses."),
      409: err("The idempotencyKey was used for a different request."),
      413: err("Body over the limit."),
      415: err("Not JSON."),
    },
  },
  {
    method: "POST",
    url: "/jobs/batch",
    operationId: "submitJobs",
    summary: `Submit up to ${MAX_BATCH_JOBS} jobs at once`,
    description:
      "All or nothing: every item is checked as `POST /jobs` checks its body, and one invalid item is a 400 whose details name it (`jobs.<index>.<field>`), with nothing stored. The jobs are committed in one transaction, each with its audit row, then published. An item whose `idempotencyKey` was used before (by an earlier request, or an earlier item of this batch) answers that first job with `created: false`; if it differs from the request that first used the key, the whole batch is a 409 naming the items, and nothing is stored.",
    tag: "jobs",
    access: "submit",
    body: SubmitJobsBody,
    answers: {
      202: { description: "Every item, in request order.", body: SubmitBatchResultSchema },
      400: err("Bad body, more than the limit of jobs, or an item with an unknown type or a payload its handler refuses; `details` names each bad item."),
      409: err("An item's idempotencyKey was used for a different request; nothing was stored."),
      413: err("Body over the limit."),
      415: err("Not JSON."),
    },
  },
  {
    method: "GET",
    url: "/jobs",
    operationId: "searchJobs",
    summary: "Find jobs",
    description:
      "Newest first, keyset-paginated: pass `nextCursor` as `cursor` with the same filters for the next page. Unknown parameters or values, a bad or altered cursor and a limit outside 1–500 are a 400 naming the parameter.",
    tag: "operate",
    access: "submit",
    query: SearchJobsQuery,
    answers: { 200: { description: "One page.", body: SearchPageSchema }, 400: BAD },
  },
  {
    method: "GET",
    url: "/jobs/stats",
    operationId: "jobStats",
    summary: "Counts by state and type, queue depths",
    tag: "operate",
    access: "submit",
    answers: { 200: { description: "The system at a glance.", body: StatsSchema } },
  },
  {
    method: "POST",
    url: "/jobs/retry",
    operationId: "bulkRetry",
    summary: "Retry every FAILED job a filter matches",
    description:
      "FAILED → PENDING (attempts reset), each audited and published like a single retry. The filter must narrow the action (type, createdAfter, createdBefore or ids); an empty one is a 400.",
    tag: "operate",
    access: "operator",
    body: BulkRetryBody,
    answers: { 200: { description: "How many moved.", body: BulkResultSchema }, 400: BAD },
  },
  {
    method: "POST",
    url: "/jobs/cancel",
    operationId: "bulkCancel",
    summary: "Cancel every PENDING job a filter matches",
    description: "PENDING → CANCELLED, each audited. The filter must narrow the action; an empty one is a 400.",
    tag: "operate",
    access: "operator",
    body: BulkCancelBody,
    answers: { 200: { description: "How many moved.", body: BulkResultSchema }, 400: BAD },
  },
  {
    method: "GET",
    url: "/jobs/:id",
    operationId: "getJob",
    summary: "A job, with its payload",
    description: "From Redis, or Postgres on a miss; the `x-jobstack-source` header says which.",
    tag: "jobs",
    access: "submit",
    params: JobIdParams,
    answers: { 200: { description: "The job and its payload.", body: JobDetailSchema }, 400: BAD, 404: NOT_FOUND },
  },
  {
    method: "GET",
    url: "/jobs/:id/transitions",
    operationId: "getJobTransitions",
    summary: "A job's audit log, oldest first",
    tag: "jobs",
    access: "submit",
    params: JobIdParams,
    answers: { 200: { description: "Every transition.", body: z.array(TransitionViewSchema) }, 400: BAD, 404: NOT_FOUND },
  },
  {
    method: "POST",
    url: "/jobs/:id/cancel",
    operationId: "cancelJob",
    summary: "Cancel a PENDING job",
    tag: "jobs",
    access: "operator",
    params: JobIdParams,
    answers: { 200: JOB, 400: BAD, 404: NOT_FOUND, 409: err("The job is not PENDING; `details.state` says what it is.") },
  },
  {
    method: "POST",
    url: "/jobs/:id/retry",
    operationId: "retryJob",
    summary: "Retry a FAILED job",
    description: "FAILED → PENDING with attempts reset, audited as a manual retry, then published.",
    tag: "jobs",
    access: "operator",
    params: JobIdParams,
    answers: { 200: JOB, 400: BAD, 404: NOT_FOUND, 409: err("The job is not FAILED; `details.state` says what it is.") },
  },
  {
    method: "GET",
    url: "/healthz",
    operationId: "health",
    summary: "Liveness: 200 while the process runs (touches no dependency)",
    tag: "system",
    access: "public",
    answers: { 200: { description: "Alive.", body: HealthSchema } },
  },
  {
    method: "GET",
    url: "/readyz",
    operationId: "readiness",
    summary: "Readiness: Postgres, Redis and RabbitMQ each answering",
    tag: "system",
    access: "public",
    answers: { 200: { description: "Ready.", body: ReadinessSchema }, 503: { description: "A dependency is down.", body: ReadinessSchema } },
  },
  {
    method: "GET",
    url: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics (docs/metrics.md)",
    tag: "system",
    access: "public",
    answers: { 200: { description: "Prometheus text exposition format.", body: { mediaType: "text/plain" } } },
  },
  {
    method: "GET",
    url: "/openapi.json",
    operationId: "openapi",
    summary: "This document",
    tag: "system",
    access: "public",
    answers: { 200: { description: "OpenAPI 3.1.", body: { mediaType: "application/json" } } },
  },
  {
    method: "GET",
    url: "/ui",
    operationId: "dashboard",
    summary: "The operator dashboard (docs/dashboard.md)",
    description: "An HTML page under a strict Content-Security-Policy; it holds no data and asks for a token, which it sends to the routes above.",
    tag: "system",
    access: "public",
    answers: { 200: { description: "The page.", body: { mediaType: "text/html" } } },
  },
  {
    method: "GET",
    url: "/ui/:file",
    operationId: "dashboardFile",
    summary: "The dashboard's script, stylesheet and icon",
    tag: "system",
    access: "public",
    params: z.object({ file: z.enum(Object.keys(UI_FILES) as [UiFile, ...UiFile[]]) }),
    answers: { 200: { description: "The file, with its media type.", body: { mediaType: "text/plain" } }, 404: err("No such file.") },
  },
];

const AUTH_ANSWERS: Record<Exclude<Access, "public">, Record<number, Answer>> = {
  submit: { 401: err("No or an unknown bearer token.") },
  operator: {
    401: err("No or an unknown bearer token."),
    403: err("A submit token (API_TOKEN): this route needs the operator token (OPERATOR_TOKEN)."),
  },
};

/** OpenAPI path template of a fastify pattern. */
export function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, "{$1}");
}

export function openApiDocument(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const toSchema = (schema: Schema, io: "input" | "output") => jsonSchema(schema, io, schemas);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [
      ...objectParameters(route.params, "path", toSchema),
      ...objectParameters(route.query, "query", toSchema),
    ];
    const responses: Record<string, unknown> = {};
    const answers = { ...route.answers, ...(route.access === "public" ? {} : AUTH_ANSWERS[route.access]) };
    for (const [status, answer] of Object.entries(answers).sort(([a], [b]) => Number(a) - Number(b))) {
      responses[status] = {
        description: answer.description,
        ...(answer.body && {
          content:
            "mediaType" in answer.body
              ? { [answer.body.mediaType]: { schema: { type: "string" } } }
              : { "application/json": { schema: toSchema(answer.body, "output") } },
        }),
      };
    }
    const operation = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description && { description: route.description }),
      tags: [route.tag],
      security: route.access === "public" ? [] : [{ bearer: [] }],
      "x-jobstack-role": route.access,
      ...(parameters.length > 0 && { parameters }),
      ...(route.body && {
        requestBody: { required: true, content: { "application/json": { schema: toSchema(route.body, "input") } } },
      }),
      responses,
    };
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "jobstack API",
      version: "0.1.0",
      description:
        "Submit, read and operate jobs. Two bearer tokens: API_TOKEN may submit and read; OPERATOR_TOKEN may also retry and cancel (single and bulk). Every error is `{\"error\": {\"code\", \"message\", \"details\"}}`.",
    },
    tags: [
      { name: "jobs", description: "Submit and follow one job." },
      { name: "operate", description: "Find jobs, see the system, act on many jobs at once." },
      { name: "system", description: "Probes, metrics and this document; no token." },
    ],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "`Authorization: Bearer <API_TOKEN>` (submit and read) or `Bearer <OPERATOR_TOKEN>` (also retry and cancel).",
        },
      },
      schemas,
    },
  };
}

/**
 * A zod schema as JSON Schema (2020-12, OpenAPI 3.1's dialect). Schemas with a `meta({id})`
 * go to components.schemas once and are referenced from everywhere else.
 */
function jsonSchema(schema: Schema, io: "input" | "output", components: Record<string, unknown>): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;
  // zod puts schemas that carry an id under $defs and refers to them as #/$defs/<id>; in the
  // document they live once under components.schemas.
  const relinked = JSON.parse(JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  const { $schema: _, $defs, ...body } = relinked as { $schema?: string; $defs?: Record<string, unknown> };
  for (const [id, def] of Object.entries($defs ?? {})) components[id] ??= def;
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  if (id) {
    const { id: _id, ...withoutId } = body as Record<string, unknown>;
    components[id] ??= withoutId;
    return { $ref: `#/components/schemas/${id}` };
  }
  return body;
}

function objectParameters(
  object: z.ZodObject | undefined,
  where: "path" | "query",
  toSchema: (schema: Schema, io: "input" | "output") => Record<string, unknown>,
): Record<string, unknown>[] {
  if (!object) return [];
  return Object.entries(object.shape).map(([name, field]) => {
    const schema = toSchema(field as Schema, "input");
    const { description, examples, ...rest } = schema as { description?: string; examples?: unknown[] };
    return {
      name,
      in: where,
      required: where === "path" || !(field as Schema).safeParse(undefined).success,
      ...(description && { description }),
      ...(examples && examples.length > 0 && { example: examples[0] }),
      schema: rest,
      ...(Array.isArray((rest as { anyOf?: unknown }).anyOf) && { style: "form", explode: true }),
    };
  });
}

/** The committed file's text: two-space JSON and a final newline. */
export function openApiText(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * `/jobs*`: submit, read, audit, cancel, retry. Every route here needs a bearer token (the
 * scope's hook, services/api/app.ts); cancel and retry need the operator's.
 *
 * Writes go to Postgres (the source of truth) and only then to the cache; reads go to Redis
 * first and to Postgres on a miss. `JobCache` never throws and its writes are versioned, so a
 * cache outage costs a database read and a late write cannot regress a job's state.
 */
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { dispatchJob, dispatchResult } from "../../core/dispatch.js";
import { idempotencyConflicts } from "../../core/jobs/repository.js";
import type { Job, SubmitInput, TransitionOutcome } from "../../core/jobs/types.js";
import { requireRole } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../http-errors.js";
import { JobIdParams, parsePart, SubmitJobBody, SubmitJobsBody, type ValidationIssue } from "../schemas.js";
import { jobDetailView, jobView, transitionView } from "../views.js";

/** Publishes a committed PENDING job and counts it; never throws (see `jobDispatcher`). */
export type Dispatcher = (job: Job, source: "api" | "retry", log: FastifyBaseLogger) => Promise<void>;

export async function jobRoutes(app: FastifyInstance, deps: ApiDeps, dispatch: Dispatcher): Promise<void> {
  const { repo, cache, metrics } = deps;
  const operator = requireRole("operator");

  app.post("/jobs", async (request, reply) => {
    const body = parsePart(SubmitJobBody, request.body, "body");
    // Refuse now what the worker would refuse to run (the same check, with the same message): a
    // bad payload is the client's mistake, and a 400 beats a job that fails permanently later.
    const check = deps.handlers.validate(body.type, body.payload ?? {});
    if (!check.ok && check.reason === "unknown_type") {
      const allowed = deps.handlers.types();
      throw new ApiError(400, "unknown_job_type", check.message, [
        { part: "body", path: "type", message: `must be one of: ${allowed.join(", ")}`, allowed },
      ]);
    }
    if (!check.ok) {
      throw new ApiError(
        400,
        "bad_request",
        check.message,
        check.issues.map((i) => ({ part: "body", path: i.path, message: i.message })),
      );
    }
    const { job, created } = await repo.submit({
      type: body.type,
      payload: body.payload ?? {},
      maxAttempts: body.maxAttempts,
      idempotencyKey: body.idempotencyKey,
    });
    if (created) {
      metrics.jobsSubmitted.inc({ type: job.type });
      // Both only after the commit; neither depends on the other (the cache write is versioned).
      await Promise.all([cache.put(job), dispatch(job, "api", request.log)]);
    } else {
      // A key reused for a different request is a client bug that would otherwise pass
      // silently (the caller believes a second job exists): refuse it, as payment APIs do.
      const differs = idempotencyConflicts(job, { type: body.type, payload: body.payload ?? {}, maxAttempts: body.maxAttempts });
      if (differs.length > 0) {
        throw new ApiError(409, "idempotency_key_reused", `idempotencyKey was used for a different request (job ${job.id})`, [
          ...differs.map((path) => ({ part: "body", path, message: "differs from the request that first used this idempotencyKey" })),
        ]);
      }
      // The first request's job, as it is now. Its dispatch is the first request's (or the
      // sweeper's) business; publishing again here would only add duplicates.
      reply.header("idempotent-replayed", "true");
    }
    return reply.code(202).send(jobView(job));
  });

  /**
   * All or nothing (docs/api-access.md): every item is checked like POST /jobs' body first, and
   * one bad item refuses the batch (400, each bad item named); the jobs are committed in one
   * transaction (services/core/jobs/repository.ts submitBatch), and an idempotency key reused for
   * a different request refuses the batch (409) with nothing stored. Then, like POST /jobs, the
   * new jobs are cached (one Redis pipeline) and published, each with its confirm.
   */
  app.post("/jobs/batch", async (request, reply) => {
    const body = parsePart(SubmitJobsBody, request.body, "body");
    const issues: ValidationIssue[] = [];
    body.jobs.forEach((item, i) => {
      const check = deps.handlers.validate(item.type, item.payload ?? {});
      if (!check.ok) for (const issue of check.issues) issues.push({ part: "body", path: `jobs.${i}.${issue.path}`, message: issue.message });
    });
    if (issues.length > 0) {
      const summary = issues.map((i) => `body.${i.path}: ${i.message}`).join("; ");
      throw new ApiError(400, "bad_request", `invalid request body: ${summary}`, issues);
    }
    const inputs: SubmitInput[] = body.jobs.map((item) => ({
      type: item.type,
      payload: item.payload ?? {},
      maxAttempts: item.maxAttempts,
      idempotencyKey: item.idempotencyKey,
    }));
    const outcome = await repo.submitBatch(inputs);
    if (!outcome.ok) {
      throw new ApiError(
        409,
        "idempotency_key_reused",
        `idempotencyKey was used for a different request (${outcome.conflicts.map((c) => `jobs.${c.index}: job ${c.job.id}`).join(", ")}); nothing was stored`,
        outcome.conflicts.flatMap((c) =>
          c.fields.map((f) => ({ part: "body", path: `jobs.${c.index}.${f}`, message: "differs from the request that first used this idempotencyKey" })),
        ),
      );
    }
    const created = outcome.results.filter((r) => r.created).map((r) => r.job);
    for (const job of created) metrics.jobsSubmitted.inc({ type: job.type });
    // After the commit; neither depends on the other (cache writes are versioned).
    await Promise.all([cache.putMany(created), ...created.map((job) => dispatch(job, "api", request.log))]);
    return reply.code(202).send({ items: outcome.results.map((r) => ({ job: jobView(r.job), created: r.created })) });
  });

  app.get("/jobs/:id", async (request, reply) => {
    const { id } = parsePart(JobIdParams, request.params, "params");
    const cached = await cache.get(id);
    // The header says where the answer came from: operators debugging staleness, and tests.
    if (cached) return reply.header("x-jobstack-source", "cache").send(jobDetailView(cached));
    const job = await repo.get(id);
    if (!job) throw notFound(id);
    await cache.put(job);
    return reply.header("x-jobstack-source", "postgres").send(jobDetailView(job));
  });

  app.get("/jobs/:id/transitions", async (request) => {
    const { id } = parsePart(JobIdParams, request.params, "params");
    const transitions = await repo.transitions(id);
    // Every job has at least its `→ PENDING` row, so an empty log means no such job.
    if (transitions.length === 0) throw notFound(id);
    return transitions.map(transitionView);
  });

  app.post("/jobs/:id/cancel", { preHandler: operator }, async (request) => {
    const { id } = parsePart(JobIdParams, request.params, "params");
    const job = answer(await repo.cancel(id, "cancelled via API"), id, "cancel");
    await cache.put(job);
    return jobView(job);
  });

  app.post("/jobs/:id/retry", { preHandler: operator }, async (request) => {
    const { id } = parsePart(JobIdParams, request.params, "params");
    const job = answer(await repo.retry(id, "manual retry via API"), id, "retry");
    await cache.put(job);
    // PENDING again and committed: publish it like a new job (same rules on failure).
    await dispatch(job, "retry", request.log);
    return jobView(job);
  });
}

/**
 * The job row is already committed (PENDING) when this runs, so a broker outage here loses
 * nothing: the worker's sweeper republishes PENDING jobs whose dispatch was never recorded.
 * That is why a failure is logged, not answered — the job *is* accepted. The queue bounds
 * the wait for the confirm (JobQueueOptions.publishTimeoutMs).
 */
export function jobDispatcher(deps: Pick<ApiDeps, "queue" | "repo" | "metrics">): Dispatcher {
  return async (job, source, log) => {
    const outcome = await dispatchJob(deps.queue, deps.repo, job);
    const result = dispatchResult(outcome);
    deps.metrics.dispatches.inc({ source, result });
    // A full queue refuses every publish until it drains: counted, not logged per job.
    if (result === "rejected") log.debug({ jobId: job.id }, "job queue full; the sweeper will publish the job");
    else if (outcome.error) {
      log.warn({ jobId: job.id, err: outcome.error, published: outcome.dispatched }, "dispatch incomplete; the sweeper will publish the job");
    }
  };
}

function notFound(id: string): ApiError {
  return new ApiError(404, "not_found", `no job ${id}`, { part: "params", path: "id" });
}

/** Maps a repository outcome: the job, or 404 / 409 naming the state that forbade the move. */
function answer(outcome: TransitionOutcome, id: string, action: "cancel" | "retry"): Job {
  if (outcome.ok) return outcome.job;
  if (outcome.code === "not_found") throw notFound(id);
  const required = action === "cancel" ? "PENDING" : "FAILED";
  const message = outcome.state
    ? `cannot ${action} job ${id}: it is ${outcome.state}, not ${required}`
    : `cannot ${action} job ${id}: it is not ${required}`;
  throw new ApiError(409, "conflict", message, { state: outcome.state ?? null, required, reason: outcome.message });
}

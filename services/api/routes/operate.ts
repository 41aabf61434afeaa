/**
 * The operator's routes (docs/api-access.md): `GET /jobs` (search), `GET /jobs/stats`, and the
 * bulk actions `POST /jobs/retry` and `POST /jobs/cancel`. Registered inside the `/jobs*` scope,
 * behind its bearer hook; the bulk actions also need the operator role.
 */
import type { FastifyInstance } from "fastify";
import type { JobFilter } from "../../core/jobs/search.js";
import { requireRole } from "../auth.js";
import type { CursorCodec } from "../cursor.js";
import type { ApiDeps } from "../deps.js";
import { BulkCancelBody, BulkRetryBody, SearchJobsQuery } from "../operate-schemas.js";
import { parsePart } from "../schemas.js";
import type { SnapshotCache } from "../system-snapshot.js";
import { jobView } from "../views.js";
import type { Dispatcher } from "./jobs.js";

export interface OperateRoutesOptions {
  readonly cursors: CursorCodec;
  readonly snapshots: SnapshotCache;
  readonly dispatch: Dispatcher;
}

export async function operateRoutes(app: FastifyInstance, deps: ApiDeps, options: OperateRoutesOptions): Promise<void> {
  const { repo, cache } = deps;
  const operator = requireRole("operator");

  app.get("/jobs", async (request) => {
    const query = parsePart(SearchJobsQuery, request.query, "query");
    const filter: JobFilter = {
      states: query.state,
      type: query.type,
      createdAfter: query.createdAfter,
      createdBefore: query.createdBefore,
    };
    const after = query.cursor === undefined ? null : options.cursors.decode(query.cursor, filter);
    const page = await repo.search(filter, after, query.limit);
    return {
      items: page.jobs.map(jobView),
      nextCursor: page.next === null ? null : options.cursors.encode(page.next, filter),
    };
  });

  // Fresh counts for whoever asks (the dashboard); concurrent requests share one snapshot.
  app.get("/jobs/stats", async () => {
    const { dependencies: _, ...stats } = await options.snapshots.get(0);
    return stats;
  });

  app.post("/jobs/retry", { preHandler: operator }, async (request) => {
    const { filter } = parsePart(BulkRetryBody, request.body, "body");
    const { state: _, ...narrow } = filter;
    const moved = await repo.moveMatching("retry", narrow, "bulk retry via API", async (jobs) => {
      // After each chunk's commit, as a single retry does: cache, then publish like a new job.
      await Promise.all(jobs.map((job) => cache.put(job)));
      await Promise.all(jobs.map((job) => options.dispatch(job, "retry", request.log)));
    });
    // Each job's move is in the audit log; the request that moved them belongs in the log.
    request.log.info({ filter, moved }, "bulk retry");
    return { moved };
  });

  app.post("/jobs/cancel", { preHandler: operator }, async (request) => {
    const { filter } = parsePart(BulkCancelBody, request.body, "body");
    const { state: _, ...narrow } = filter;
    const moved = await repo.moveMatching("cancel", narrow, "bulk cancel via API", async (jobs) => {
      await Promise.all(jobs.map((job) => cache.put(job)));
    });
    request.log.info({ filter, moved }, "bulk cancel");
    return { moved };
  });
}

/**
 * HTTP latency for the API, into core's `httpDuration` histogram. Job submissions, transitions
 * (counted by the repository's listener) and dispatches are recorded where they happen.
 */
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../core/metrics.js";

/** Labels by route pattern, not raw URL: job ids in the label set would grow it without bound. */
export function instrumentHttp(app: FastifyInstance, metrics: Pick<Metrics, "httpDuration">): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

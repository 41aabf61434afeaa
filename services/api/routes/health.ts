/**
 * `/healthz`, `/readyz` and `/metrics`: no token, for probes and scrapers.
 *
 * `/healthz` touches nothing — a liveness probe that queried Postgres would restart every API
 * replica whenever Postgres blinked. `/readyz` is the one that asks the dependencies.
 */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";
import { checkReadiness } from "../../core/readiness.js";

export interface HealthRoutesOptions {
  readinessTimeoutMs: number;
}

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps, options: HealthRoutesOptions): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const report = await checkReadiness(deps.readiness, options.readinessTimeoutMs);
    return reply.code(report.ready ? 200 : 503).send({
      status: report.ready ? "ready" : "not_ready",
      dependencies: report.dependencies,
    });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}

/**
 * `/healthz`, `/readyz` and `/metrics`: no token, for probes and scrapers (docs/health-probes.md).
 *
 * `/healthz` (liveness) touches nothing: it answers from the dependency watch's memory, 503 only
 * once Postgres has been unreachable for longer than DEPENDENCY_LIVENESS_LIMIT_MS — a probe that
 * queried Postgres would restart every replica whenever Postgres blinked.
 * `/readyz` asks every dependency now; only Postgres and the schema version decide it (what the
 * api needs to answer). Redis and RabbitMQ are reported in the body and in
 * `jobstack_dependency_up`, but their outage keeps the pod serving in degraded mode.
 */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.js";
import { API_REQUIRED, checkReadiness } from "../../core/readiness.js";

export interface HealthRoutesOptions {
  readinessTimeoutMs: number;
}

export async function healthRoutes(app: FastifyInstance, deps: ApiDeps, options: HealthRoutesOptions): Promise<void> {
  app.get("/healthz", async (_request, reply) => {
    const live = deps.watch?.liveness();
    if (!live || live.live) return { status: "ok" };
    return reply.code(503).send({ status: "dependency_unreachable", limitMs: live.limitMs, failing: live.failing });
  });

  app.get("/readyz", async (_request, reply) => {
    const report = await checkReadiness(deps.readiness, options.readinessTimeoutMs, deps.readinessRequired ?? API_REQUIRED);
    for (const [name, state] of Object.entries(report.dependencies)) deps.metrics.dependencyUp.set({ dependency: name }, state.ok ? 1 : 0);
    deps.watch?.observe(report.dependencies);
    return reply.code(report.ready ? 200 : 503).send({
      status: report.ready ? "ready" : "not_ready",
      required: report.required,
      dependencies: report.dependencies,
    });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}

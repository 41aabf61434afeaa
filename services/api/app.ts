/**
 * `buildApp(deps, config)`: the API's fastify instance, with nothing opened or listened on.
 *
 * The caller owns the dependencies (see `main.ts` and the tests) and calls `listen`/`close`.
 * Closing the app does not close the dependencies: whoever opened them closes them.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "../core/logger.js";
import type { ApiDeps } from "./deps.js";
import { errorHandler, notFoundHandler } from "./http-errors.js";
import { instrumentHttp } from "./metrics.js";
import { healthRoutes } from "./routes/health.js";
import { jobRoutes } from "./routes/jobs.js";

export interface ApiAppConfig {
  apiToken: string;
  /** Largest accepted request body in bytes; larger is a 413. @default 1048576 (core's BODY_LIMIT_BYTES default) */
  bodyLimit?: number;
  /** Deepest nesting of arrays and objects in a body; deeper is a 400. @default 64 (core's BODY_MAX_DEPTH default) */
  bodyMaxDepth?: number;
  /** Per-dependency timeout of `/readyz`. @default 1000 */
  readinessTimeoutMs?: number;
  /** A pino logger (core's `createLogger`, which redacts credentials), or false for none. @default false */
  logger?: Logger | false;
}

export function buildApp(deps: ApiDeps, config: ApiAppConfig): FastifyInstance {
  const app = Fastify({
    bodyLimit: config.bodyLimit ?? 1024 * 1024,
    // Typed as fastify's base logger so the instance type stays the default one.
    ...(config.logger ? { loggerInstance: config.logger as FastifyBaseLogger } : { logger: false }),
    // Behind an orchestrator: stop advertising readiness while draining, and do not let idle
    // keep-alive sockets hold `close()` open.
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });

  // JSON only: fastify also parses text/plain by default, which this API never accepts.
  // Anything else with a body is answered 415 by fastify.
  app.removeContentTypeParser("text/plain");

  // A response finished after close() began must end its keep-alive connection: otherwise the
  // socket stays open for fastify's keepAliveTimeout (72 s) and holds close(), so a SIGTERMed
  // api outlives Kubernetes' 30 s grace period and is killed (test/services/api/shutdown.test.ts).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  instrumentHttp(app, deps.metrics);

  void app.register(async (scope) => healthRoutes(scope, deps, { readinessTimeoutMs: config.readinessTimeoutMs ?? 1000 }));
  // A separate encapsulated scope: the bearer hook it adds applies to /jobs* only.
  void app.register(async (scope) =>
    jobRoutes(scope, deps, { apiToken: config.apiToken, bodyMaxDepth: config.bodyMaxDepth ?? 64 }),
  );
  return app;
}

/**
 * `buildApp(deps, config)`: the API's fastify instance, with nothing opened or listened on.
 *
 * The caller owns the dependencies (see `main.ts` and the tests) and calls `listen`/`close`.
 * Closing the app does not close the dependencies: whoever opened them closes them.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "../core/logger.js";
import type { ApiDeps } from "./deps.js";
import { errorHandler, notFoundHandler } from "./http-errors.js";
import { instrumentHttp } from "./metrics.js";
import { requireBearer } from "./auth.js";
import { CursorCodec } from "./cursor.js";
import { openApiRoutes } from "./routes/openapi.js";
import { refuseUnstorableBodies } from "./storable.js";
import { healthRoutes } from "./routes/health.js";
import { jobDispatcher, jobRoutes } from "./routes/jobs.js";
import { operateRoutes } from "./routes/operate.js";
import { managementReader } from "./rabbitmq-management.js";
import { uiRoutes } from "./routes/ui.js";
import { registerSystemMetrics } from "./system-metrics.js";
import { SnapshotCache, takeSnapshot } from "./system-snapshot.js";

export interface ApiAppConfig {
  /** API_TOKEN: submit and read; also keys the search cursor's signature (services/api/cursor.ts). */
  apiToken: string;
  /** OPERATOR_TOKEN: may also retry and cancel. @default "" (no one may) */
  operatorToken?: string;
  /**
   * RabbitMQ's management API (`http://user:pass@host:15672`) and the AMQP URL whose vhost the
   * queue lives in: stats and metrics then report unacknowledged messages. @default none
   */
  rabbitmqManagement?: { url: string; amqpUrl: string };
  /**
   * How old a system snapshot a `/metrics` scrape may reuse: one count of the jobs table per
   * this interval per api replica, however many scrapers (docs/metrics.md). @default 15000
   */
  metricsMaxAgeMs?: number | undefined;
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
    // fastify logs two lines per request at info ("incoming request", "request completed"): at
    // thousands of requests a second, writing them was the api's largest single cost in its CPU
    // profile (bench/results/README.md). Errors are still logged (http-errors.ts); one line per
    // request comes back at debug (below).
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (config.logger && config.logger.isLevelEnabled("debug")) {
    app.addHook("onResponse", async (request, reply) => {
      request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, "request");
    });
  }

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

  const management = config.rabbitmqManagement && managementReader(config.rabbitmqManagement.url, config.rabbitmqManagement.amqpUrl);
  const snapshots = new SnapshotCache(() =>
    takeSnapshot({ repo: deps.repo, queue: deps.queue, readiness: deps.readiness, management }),
  );
  registerSystemMetrics(deps.metrics.registry, snapshots, config.metricsMaxAgeMs ?? 15_000);
  app.decorateRequest("jobstackRole", null);

  void app.register(async (scope) => healthRoutes(scope, deps, { readinessTimeoutMs: config.readinessTimeoutMs ?? 1000 }));
  void app.register(async (scope) => openApiRoutes(scope));
  // The dashboard's files need no token (they hold no data); what they fetch does.
  void app.register(async (scope) => uiRoutes(scope));
  // A separate encapsulated scope: the bearer hook it adds applies to /jobs* only.
  void app.register(async (scope) => {
    scope.addHook("onRequest", requireBearer({ submit: config.apiToken, operator: config.operatorToken ?? "" }));
    // After parsing, before any route sees the body: what Postgres cannot store is a 400, not a 500.
    scope.addHook("preValidation", refuseUnstorableBodies(config.bodyMaxDepth ?? 64));
    const dispatch = jobDispatcher(deps);
    await jobRoutes(scope, deps, dispatch);
    await operateRoutes(scope, deps, { cursors: new CursorCodec(config.apiToken), snapshots, dispatch });
  });
  return app;
}

/**
 * The API process (`npm run api`): config from the environment, dependencies, HTTP on PORT.
 *
 * Migrations are not run here (`npm run migrate` or `jobstack local` do that); the API only
 * reports readiness. SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish,
 * close the dependencies, exit 0. A second signal exits at once (exit codes: run-service.ts).
 */
import { createStorageMetrics } from "../core/storage-metrics.js";
import { openDependencies } from "../core/dependencies.js";
import { coerceError } from "../core/errors.js";
import { throttledDependencyErrorLog } from "../core/dependency-error-log.js";
import { runService } from "../core/run-service.js";
import { exitOnSignalsBeforeStart } from "../core/signals.js";
import { loadServiceConfig, redactConfig, ServiceConfigError } from "../core/config.js";
import { createLogger } from "../core/logger.js";
import { createHandlerRegistry, HandlerModuleError, loadHandlerModules } from "../handlers/index.js";
import { buildApp } from "./app.js";
import { apiDepsFrom } from "./deps.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadServiceConfig("api");
  } catch (raw) {
    const err = coerceError(raw);
    // ServiceConfigError lists every problem and never contains a secret's value.
    process.stderr.write(`${err instanceof ServiceConfigError ? err.message : `cannot read configuration: ${err.message}`}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, { service: "api" });
  logger.info({ config: redactConfig(config) }, "starting api");
  // A signal while it starts (loading handlers, connecting) stops it cleanly, exit 0.
  exitOnSignalsBeforeStart(logger);

  // The same registry the workers build, so POST /jobs accepts exactly what they can run.
  // A missing or broken module stops the start (exit 2), naming the module and the reason.
  const handlers = createHandlerRegistry();
  try {
    await loadHandlerModules(handlers, config.handlerModules, { databaseUrl: config.databaseUrl, workerId: config.workerId, role: "api" });
  } catch (raw) {
    process.stderr.write(`api failed to start: ${coerceError(raw).message}\n`);
    process.exit(raw instanceof HandlerModuleError ? 2 : 1);
  }

  const deps = await openDependencies(config, {
    // Serve /healthz and a 503 /readyz through a Postgres outage instead of crash-looping.
    requirePostgres: false,
    onError: throttledDependencyErrorLog(logger),
  });
  // Queue depths and bounds on the api too: they matter most when every worker is gone.
  createStorageMetrics(deps.metrics.registry, {
    queue: deps.queue,
    maxLength: config.queueMaxLength,
    deadLetterMaxLength: config.deadLetterMaxLength,
  });
  const app = buildApp(apiDepsFrom(deps, handlers), {
    apiToken: config.apiToken,
    operatorToken: config.operatorToken,
    ...(config.rabbitmqManagementUrl && { rabbitmqManagement: { url: config.rabbitmqManagementUrl, amqpUrl: config.amqpUrl } }),
    bodyLimit: config.bodyLimitBytes,
    bodyMaxDepth: config.bodyMaxDepth,
    logger,
  });

  await runService({
    log: logger,
    stoppingMessage: "draining",
    // HOST defaults to 0.0.0.0: in a container the probe and the load balancer come from
    // outside the loopback. `jobstack local` narrows it to 127.0.0.1.
    start: async () => void (await app.listen({ port: config.port, host: config.host })),
    close: [
      ["HTTP server", () => app.close()],
      ["dependencies", () => deps.close()],
    ],
  });
}

main().catch((raw) => {
  process.stderr.write(`api failed to start: ${coerceError(raw).message}\n`);
  process.exit(1);
});

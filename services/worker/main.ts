// `npm run worker`: wires config, dependencies, handlers, the consume loop, the health server
// and signal handling together. Configured only by environment variables (services/core/config.ts).
// Exit codes: 0 after a graceful drain, 1 start-up or shutdown failure, 2 bad configuration
// (including a handler module that cannot be loaded), 130 forced by a second signal:
// services/core/run-service.ts.

import { consumerPrefetch, loadServiceConfig, redactConfig, ServiceConfigError } from "../core/config.js";
import { openDependencies } from "../core/dependencies.js";
import { coerceError } from "../core/errors.js";
import { throttledDependencyErrorLog } from "../core/dependency-error-log.js";
import { runService } from "../core/run-service.js";
import { exitOnSignalsBeforeStart } from "../core/signals.js";
import { checkReadiness } from "../core/readiness.js";
import { createLogger } from "../core/logger.js";
import { JobRetention } from "../core/jobs/retention.js";
import { createMetrics } from "../core/metrics.js";
import { createStorageMetrics } from "../core/storage-metrics.js";
import { createHandlerRegistry, HandlerModuleError, loadHandlerModules } from "../handlers/index.js";
import { startHealthServer } from "./health.js";
import { Worker } from "./worker.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadServiceConfig("worker");
  } catch (err) {
    console.error(err instanceof ServiceConfigError ? err.message : coerceError(err).message);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, { service: "worker", workerId: config.workerId });
  log.info({ config: redactConfig(config) }, "starting worker");
  // A signal while it starts (loading handlers, connecting) stops it cleanly, exit 0.
  exitOnSignalsBeforeStart(log);

  // Before any connection: a missing or broken handler module stops the start, naming the module.
  const registry = createHandlerRegistry();
  try {
    await loadHandlerModules(registry, config.handlerModules, { databaseUrl: config.databaseUrl, workerId: config.workerId, role: "worker" });
  } catch (err) {
    console.error(`worker failed to start: ${coerceError(err).message}`);
    process.exit(err instanceof HandlerModuleError ? 2 : 1);
  }
  const metrics = createMetrics({ labels: { service: "worker" } });
  const deps = await openDependencies(config, {
    metrics,
    onError: throttledDependencyErrorLog(log),
    // Not rate-limited like onError: an operator must see every repair.
    onQueueRepaired: (queue) =>
      log.warn({ queue }, "RabbitMQ queue without a leader (basic.consume never answered) deleted and declared again; see docs/broker-outages.md"),
  });
  const storageMetrics = createStorageMetrics(metrics.registry, {
    queue: deps.queue,
    maxLength: config.queueMaxLength,
    deadLetterMaxLength: config.deadLetterMaxLength,
  });
  const retention = new JobRetention(deps.pool, {
    window: config.retention,
    batchSize: config.retentionBatchSize,
    batchPauseMs: config.retentionBatchPauseMs,
    partitionSeconds: config.retentionPartitionSeconds,
    onError: (err) => log.warn({ err }, "retention"),
  });
  const worker = new Worker({
    workerId: config.workerId,
    leaseMs: config.leaseMs,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    reaperIntervalMs: config.reaperIntervalMs,
    sweeperIntervalMs: config.sweeperIntervalMs,
    sweepAfterMs: config.sweepAfterMs,
    redispatchAfterMs: config.redispatchAfterMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    concurrency: config.workerConcurrency,
    unknownTypeRetryMs: config.unknownTypeRetryMs,
    unknownTypeFailAfterMs: config.unknownTypeFailAfterMs,
    retention,
    retentionIntervalMs: config.retentionIntervalMs,
    storageMetrics,
    repo: deps.repo,
    queue: deps.queue,
    cache: deps.cache,
    registry,
    metrics,
    log,
  });
  const health = await startHealthServer({
    port: config.healthPort,
    host: config.host,
    registry: metrics.registry,
    status: () => ({ workerId: config.workerId, inFlight: worker.inFlightCount, draining: worker.isDraining }),
    liveness: () => deps.watch.liveness(),
    readiness: async () => {
      const report = await checkReadiness(deps.checks, 1_000, deps.readinessRequired);
      deps.watch.observe(report.dependencies);
      return report;
    },
  });

  await runService({
    log,
    stoppingMessage: "draining: no new jobs; finishing or releasing in-flight ones",
    start: async () => {
      await worker.start();
      log.info(
        { queue: config.jobQueue, concurrency: config.workerConcurrency, prefetch: consumerPrefetch(config), healthPort: health.port, types: registry.types() },
        "worker started",
      );
    },
    close: [
      ["worker", async () => log.info(await worker.drain(), "drained")],
      ["health server", () => health.close()],
      ["dependencies", () => deps.close()],
    ],
  });
}

main().catch((err) => {
  console.error(`worker failed to start: ${coerceError(err).stack ?? coerceError(err).message}`);
  process.exit(1);
});

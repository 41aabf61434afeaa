/**
 * A graphile-worker process for bench/jobs.ts (spawned, never imported):
 *
 *   BENCH_DATABASE_URL=<url> BENCH_CONCURRENCY=8 node --import tsx bench/jobs/graphile-worker.ts
 *
 * The schema is migrated by the parent beforehand. Runs jobstack's builtin handlers
 * (bench/jobs/handlers.ts) as graphile tasks with the settings graphile's performance page
 * (worker.graphile.org/docs/performance) uses for its throughput figures: a local queue that
 * fetches jobs in batches (`localQueue.size`), and batched completions and failures
 * (`completeJobBatchDelay: 0`, `failJobBatchDelay: 0`). Concurrency stays the benchmark's (the
 * same for every system). Prints READY once listening; SIGTERM stops it gracefully and exits 0.
 */
import { run, type Logger as GraphileLogger, Logger } from "graphile-worker";
import { runBuiltin } from "./handlers.js";
import { closeOnSignals } from "./signals.js";

// Warnings and errors only: graphile logs every job at info level, which would cost more than a noop.
const logger: GraphileLogger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`graphile ${level}: ${message}`);
});

const workerId = `graphile-${process.pid}`;
const runner = await run({
  connectionString: process.env.BENCH_DATABASE_URL!,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
  noHandleSignals: true,
  logger,
  preset: {
    worker: {
      localQueue: { size: Number(process.env.BENCH_LOCAL_QUEUE ?? 500) },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
  taskList: {
    noop: async (payload, helpers) => void (await runBuiltin("noop", payload, helpers.job.id, workerId)),
    hash: async (payload, helpers) => void (await runBuiltin("hash", payload, helpers.job.id, workerId)),
  },
});

closeOnSignals(() => runner.stop());
console.log("READY");

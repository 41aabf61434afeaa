/**
 * A BullMQ worker process for bench/jobs.ts (spawned, never imported):
 *
 *   BENCH_QUEUE=<name> BENCH_PREFIX=<prefix> BENCH_REDIS_DB=<n> BENCH_CONCURRENCY=8 \
 *     node --import tsx bench/jobs/bullmq-worker.ts
 *
 * Runs jobstack's builtin handlers (bench/jobs/handlers.ts); prints READY once connected;
 * SIGTERM closes the worker (waiting for active jobs) and exits 0.
 */
import { Worker } from "bullmq";
import { runBuiltin } from "./handlers.js";
import { closeOnSignals } from "./signals.js";

const queue = process.env.BENCH_QUEUE!;
const worker = new Worker(queue, async (job) => runBuiltin(job.name, job.data, job.id ?? "", `bullmq-${process.pid}`), {
  connection: { host: "127.0.0.1", port: 6379, db: Number(process.env.BENCH_REDIS_DB ?? 13), maxRetriesPerRequest: null },
  prefix: process.env.BENCH_PREFIX!,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
});
worker.on("error", (err) => console.error(`bullmq worker error: ${err.message}`));

closeOnSignals(() => worker.close());

await worker.waitUntilReady();
console.log("READY");

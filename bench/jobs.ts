/**
 * Throughput of jobstack vs BullMQ vs graphile-worker on this machine, side by side in one run.
 *
 *   npx tsx bench/jobs.ts [--quick] [--reps N] [--noop N] [--hash N] [--batch N] [--workers N] [--async-commit] [--no-retention] [--prefetch-ab]
 *
 * Every system gets the same job count, the same handlers (jobstack's builtins), the same total
 * concurrency (2 worker processes × 8) and the same client: one enqueue call per job, at most 32
 * outstanding. A run is: reset the system's store, start the clock, enqueue every job, poll the
 * system's own store every 25 ms until every job is finished (hard timeout), stop the clock.
 *   enqueue  first enqueue call to the last acknowledged one
 *   drain    first enqueue call to the poll that saw the last job finished (end to end; ≤ 25 ms late)
 *   cpu      CPU time per job of each component during the run (bench/lib/cpu.ts)
 * Systems run interleaved (round r rotates their order by r), after one discarded warm-up run
 * each, with all their processes started up front (idle ones cost next to nothing: the others
 * wait on a socket, graphile polls every 2 s). See bench/jobs/systems.ts for each system's setup
 * and the two jobstack enqueue paths. `--async-commit` adds a second jobstack deployment whose
 * database runs with `synchronous_commit = off`, to show what the WAL flushes cost. A third
 * jobstack deployment (unless `--no-retention`) deletes finished jobs 1 s after they finish, so
 * its ratio to the first shows what retention costs the hot path.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { argValue, sleep, stopAllChildren } from "./lib/env.js";
import { renderJobs } from "./lib/render.js";
import { attributeCpu, cpuPerJob, readProcCpu } from "./lib/cpu.js";
import type { JobsResult, JobsSample, JobsWorkloadResult } from "./lib/results.js";
import { formatMs, formatRate, interleave, ratio, summarize } from "./lib/stats.js";
import { WORKLOADS, type WorkloadName } from "./jobs/handlers.js";
import { BullmqSystem, GraphileSystem, Jobstack, type JobSystem } from "./jobs/systems.js";

export interface JobsOptions {
  readonly reps: number;
  readonly counts: Readonly<Record<WorkloadName, number>>;
  /** Worker processes per system. @default 2 */
  readonly workers?: number;
  /** Jobs in flight per worker process. @default 8 */
  readonly concurrency?: number;
  /** Enqueue calls outstanding at once. @default 32 */
  readonly inFlight?: number;
  /** Jobs in each system's discarded warm-up run. @default 200 */
  readonly warmup?: number;
  /** Adds jobstack over HTTP with `synchronous_commit = off` (an experiment). @default false */
  readonly asyncCommit?: boolean;
  /** Adds jobstack over HTTP with retention of 1 s running during the runs. @default true */
  readonly retention?: boolean;
  /**
   * Adds jobstack's direct path with WORKER_PREFETCH = concurrency (no claim ahead), to compare it
   * with the default (4 × concurrency, claim ahead) side by side. @default false
   */
  readonly prefetchAb?: boolean;
  /** Hard limit of one run. @default 180000 */
  readonly runTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** How often a run polls for completion: the drain time is at most this late. */
const POLL_MS = 25;

async function measure(sys: JobSystem, workload: WorkloadName, count: number, inFlight: number, timeoutMs: number): Promise<JobsSample> {
  await sys.reset();
  const job = WORKLOADS[workload];
  const attribution = sys.cpuAttribution();
  const cpuBefore = readProcCpu();
  const t0 = performance.now();
  let enqueueMs: number | null = null;
  let enqueueError: unknown = null;
  // Bulk calls: fewer in flight, each carrying `batchSize` jobs.
  const enqueue = "batchSize" in job ? sys.enqueueBatch(job, count, job.batchSize, Math.max(1, Math.floor(inFlight / 8))) : sys.enqueue(job, count, inFlight);
  const enqueued = enqueue.then(
    () => void (enqueueMs = performance.now() - t0),
    (err: unknown) => void (enqueueError = err),
  );
  try {
    for (;;) {
      await sleep(POLL_MS);
      if (enqueueError) throw enqueueError;
      const now = performance.now() - t0;
      if (enqueueMs !== null) {
        const p = await sys.progress();
        if (p.done + p.failed >= count) {
          const drainMs = performance.now() - t0;
          return { enqueueMs, drainMs, failed: p.failed, cpuMs: attributeCpu(cpuBefore, readProcCpu(), attribution) };
        }
      }
      if (now > timeoutMs) {
        const p = await sys.progress();
        throw new Error(`${sys.name} ${workload}: ${p.done} done, ${p.failed} failed of ${count} after ${timeoutMs} ms (enqueue ${enqueueMs === null ? "unfinished" : "finished"})`);
      }
    }
  } finally {
    await enqueued;
  }
}

export async function runJobsBench(options: JobsOptions): Promise<JobsResult> {
  const log = options.log ?? (() => undefined);
  const settings = {
    reps: options.reps,
    workers: options.workers ?? 2,
    concurrency: options.concurrency ?? 8,
    inFlight: options.inFlight ?? 32,
    warmup: options.warmup ?? 200,
  };
  const timeoutMs = options.runTimeoutMs ?? 180_000;
  const sysOptions = { workers: settings.workers, concurrency: settings.concurrency, startTimeoutMs: 120_000 };
  const jobstack = new Jobstack(sysOptions);
  const systems: JobSystem[] = [jobstack.view("http"), jobstack.view("direct"), new BullmqSystem(sysOptions), new GraphileSystem(sysOptions)];
  if (options.asyncCommit) systems.push(new Jobstack({ ...sysOptions, asyncCommit: true }).view("http"));
  // The same deployment with retention deleting finished jobs after 1 s while the run goes on:
  // its ratio to the first system is what retention costs the hot path (docs/storage.md).
  if (options.prefetchAb) systems.push(new Jobstack({ ...sysOptions, workerPrefetch: settings.concurrency }).view("direct"));
  if (options.retention ?? true) systems.push(new Jobstack({ ...sysOptions, retentionSeconds: 1 }).view("http"));
  const baseline = systems[0]!.name;
  const workloads: JobsWorkloadResult[] = [];
  try {
    log(`jobs: starting ${systems.map((s) => s.name).join(", ")} (${settings.workers} workers × ${settings.concurrency} each)`);
    // Sequential start: on 2 cores, seven tsx processes starting at once only slow each other down.
    for (const s of systems) await s.setup();
    // Warm-up: JIT, connection pools and the broker's queues, for both job types; discarded.
    for (const s of systems) {
      const w = await measure(s, "noop", settings.warmup, settings.inFlight, timeoutMs);
      const h = await measure(s, "hash", Math.ceil(settings.warmup / 4), settings.inFlight, timeoutMs);
      log(`jobs: warm-up ${s.name}: ${settings.warmup} noop in ${formatMs(w.drainMs)}, ${Math.ceil(settings.warmup / 4)} hash in ${formatMs(h.drainMs)}`);
    }
    for (const workload of Object.keys(WORKLOADS) as WorkloadName[]) {
      const count = options.counts[workload];
      if (count <= 0) continue;
      const order = interleave(systems, settings.reps);
      const samples = new Map<string, JobsSample[]>(systems.map((s) => [s.name, []]));
      for (const [r, round] of order.entries()) {
        for (const s of round) {
          const sample = await measure(s, workload, count, settings.inFlight, timeoutMs);
          samples.get(s.name)!.push(sample);
          log(
            `jobs ${workload} ${r + 1}/${settings.reps} ${s.name.padEnd(20)} enqueue ${formatMs(sample.enqueueMs).padStart(8)}  drain ${formatMs(sample.drainMs).padStart(8)}  ${formatRate((count * 1000) / sample.drainMs)}${sample.failed ? `  FAILED ${sample.failed}` : ""}`,
          );
        }
      }
      const summaries = systems.map((s) => {
        const ss = samples.get(s.name)!;
        return {
          system: s.name,
          key: s.key,
          samples: ss,
          enqueueMs: summarize(ss.map((x) => x.enqueueMs)),
          drainMs: summarize(ss.map((x) => x.drainMs)),
          throughput: summarize(ss.map((x) => (count * 1000) / x.drainMs)),
          cpuMsPerJob: cpuPerJob(ss, count),
        };
      });
      const base = summaries[0]!;
      workloads.push({
        workload,
        job: WORKLOADS[workload],
        count,
        baseline,
        order: order.map((round) => round.map((s) => s.name)),
        systems: summaries.map((s) => ({
          ...s,
          throughputRatio: ratio(s.throughput.median, base.throughput.median),
          enqueueRatio: ratio(s.enqueueMs.median, base.enqueueMs.median),
        })),
      });
    }
  } finally {
    const errors: unknown[] = [];
    for (const s of systems) await s.teardown().catch((e: unknown) => errors.push(e));
    await stopAllChildren();
    if (errors.length > 0) log(`jobs: cleanup problems: ${errors.map((e) => String(e)).join("; ")}`);
  }
  return { settings, workloads };
}

/** Command-line options shared with bench/run.ts. */
export function jobsOptionsFromArgs(quick: boolean): Omit<JobsOptions, "log"> {
  return {
    reps: Number(argValue("--reps") ?? (quick ? 2 : 3)),
    counts: {
      noop: Number(argValue("--noop") ?? (quick ? 1000 : 10_000)),
      hash: Number(argValue("--hash") ?? (quick ? 400 : 10_000)),
      batch: Number(argValue("--batch") ?? (quick ? 2000 : 10_000)),
    },
    warmup: quick ? 100 : 200,
    ...(argValue("--workers") !== undefined && { workers: Number(argValue("--workers")) }),
    asyncCommit: process.argv.includes("--async-commit"),
    prefetchAb: process.argv.includes("--prefetch-ab"),
    // The retention variant doubles a quick run's length; a full run keeps it.
    retention: !process.argv.includes("--no-retention") && !quick,
  };
}

/** The systems of the summary line, in this order. */
const SUMMARY_KEYS = ["jobstack-direct", "jobstack-http", "bullmq", "graphile-worker"] as const;

/**
 * One line per workload, the last lines a run prints, so anyone can rerun the comparison:
 * `noop: jobstack-direct 512/s, jobstack-http 301/s, bullmq 2,407/s, graphile-worker 480/s`
 * (median jobs per second, end to end).
 */
export function summaryLines(result: JobsResult): string[] {
  return result.workloads.map((w) => {
    const rates = SUMMARY_KEYS.map((key) => {
      const s = w.systems.find((x) => x.key === key);
      return `${key} ${s ? `${Math.round(s.throughput.median).toLocaleString("en-US")}/s` : "–"}`;
    });
    return `${w.workload}: ${rates.join(", ")}`;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const result = await runJobsBench({ ...jobsOptionsFromArgs(process.argv.includes("--quick")), log: (l) => console.log(l) });
  console.log(`\n${renderJobs(result)}\n`);
  for (const line of summaryLines(result)) console.log(line);
}

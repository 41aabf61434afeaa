/**
 * `npm run bench`: every benchmark, then the committed reports.
 *
 *   npm run bench                      # jobs + synth + search (1,000,000 rows), default sizes (a few minutes)
 *   npm run bench -- --quick           # smaller and fewer runs (a smoke test of the harness)
 *   npm run bench -- --only jobs       # or --only synth / --only search / --only storage; the report keeps the others' last results
 *   options of bench/jobs.ts: --reps N --noop N --hash N --async-commit; of synth: --synth-reps N;
 *   of bench/search.ts: --rows N --search-reps N; of bench/storage.ts: --storage-jobs N
 *
 * Writes bench/results/<name>.json (machine, settings, raw samples, medians, ratios) and
 * bench/results/README.md (the Markdown tables, regenerated from every JSON file present), and
 * prints the tables. Every child process and every database, queue and key it creates is
 * removed before it exits, also on failure.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { jobsOptionsFromArgs, runJobsBench, summaryLines } from "./jobs.js";
import { argValue, machineInfo, ROOT, stopAllChildren } from "./lib/env.js";
import { renderReport } from "./lib/render.js";
import type { JobsResult, SearchResult, StorageResult, Stored, SynthResult } from "./lib/results.js";
import { runSearchBench, searchOptionsFromArgs } from "./search.js";
import { renderStorage, runStorageBench } from "./storage.js";
import { runSynthBench, SYNTH_PAIRS } from "./synth.js";

const RESULTS = path.join(ROOT, "bench/results");


function read<T>(name: string): Stored<T> | null {
  const file = path.join(RESULTS, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Stored<T>) : null;
}

function write<T>(stored: Stored<T>): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, `${stored.name}.json`), `${JSON.stringify(stored, null, 2)}\n`);
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const only = argValue("--only");
  const BENCHES = ["synth", "jobs", "search", "storage"];
  if (only !== undefined && !BENCHES.includes(only)) throw new Error(`--only takes ${BENCHES.join(", ")}, not ${only}`);
  // --render-only rewrites README.md from the stored results without running anything.
  const renderOnly = process.argv.includes("--render-only");
  const selected = (name: string) => !renderOnly && (only === undefined || only === name);
  const log = (line: string) => console.log(line);

  if (selected("storage")) {
    const machine = machineInfo();
    const t0 = performance.now();
    const result = await runStorageBench({ jobs: Number(argValue("--storage-jobs") ?? (quick ? 5_000 : 50_000)), log });
    write({ name: "storage", machine, quick, args: process.argv.slice(2), durationMs: performance.now() - t0, result });
  }
  if (selected("jobs")) {
    const machine = machineInfo();
    const t0 = performance.now();
    const result = await runJobsBench({ ...jobsOptionsFromArgs(quick), log });
    write({ name: "jobs", machine, quick, args: process.argv.slice(2), durationMs: performance.now() - t0, result });
  }
  if (selected("synth")) {
    const machine = machineInfo();
    const t0 = performance.now();
    const reps = Number(argValue("--synth-reps") ?? (quick ? 3 : 5));
    const result = await runSynthBench({ reps, ...(quick && { pairs: SYNTH_PAIRS.slice(0, 1) }), log });
    write({ name: "synth", machine, quick, args: process.argv.slice(2), durationMs: performance.now() - t0, result });
  }
  if (selected("search")) {
    const machine = machineInfo();
    const t0 = performance.now();
    const result = await runSearchBench({ ...searchOptionsFromArgs(quick), log });
    write({ name: "search", machine, quick, args: process.argv.slice(2), durationMs: performance.now() - t0, result });
  }
  const report = renderReport(read<SynthResult>("synth"), read<JobsResult>("jobs"), read<SearchResult>("search")) + renderStorage(read<StorageResult>("storage"));
  writeFileSync(path.join(RESULTS, "README.md"), report);
  console.log(`\n${report}`);
  console.log(`written: bench/results/README.md and the JSON files beside it\n`);
  // Last: one line per scenario of the job benchmark (from this run, or the stored one).
  const jobs = read<JobsResult>("jobs");
  if (jobs) for (const line of summaryLines(jobs.result)) console.log(line);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // Ctrl-C: stop the children; the benches' finally blocks drop their databases and queues.
  // SIGTERM too (`timeout`, CI cancelling a job): without it the children outlived the run and
  // its databases, queues and keys stayed behind.
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`${signal}: stopping child processes (again to exit at once)`);
    void stopAllChildren(2_000);
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  main().catch(async (err: unknown) => {
    console.error(err);
    await stopAllChildren(2_000);
    process.exit(1);
  });
}

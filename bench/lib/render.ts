/**
 * Markdown for the benchmark reports. Pure: results in, text out (test/bench/render.test.ts).
 */
import type { JobsResult, SearchResult, Stored, SynthResult } from "./results.js";
import { renderTargets } from "./targets.js";
import { formatMiB, formatMs, formatMsFine, formatRate, formatRatio, markdownTable, type Summary } from "./stats.js";

const signed = (n: number, fmt: (n: number) => string) => (n < 0 ? `−${fmt(-n)}` : `+${fmt(n)}`);
const range = (s: Summary, fmt: (n: number) => string) => `${fmt(s.min)} – ${fmt(s.max)}`;

/** Markdown: one table of absolute numbers per variant, one of ratios per pair. */
export function renderSynth(result: SynthResult): string {
  const variants = Object.keys(result.summaries);
  const abs = markdownTable(
    ["variant", "wall (median)", "wall range", "CPU (median)", "CPU range", "peak RSS (median)", "RSS range", "n"],
    variants.map((v) => {
      const s = result.summaries[v]!;
      return [v, formatMs(s.wallMs.median), range(s.wallMs, formatMs), formatMs(s.cpuMs.median), range(s.cpuMs, formatMs), formatMiB(s.maxRssBytes.median), range(s.maxRssBytes, formatMiB), String(s.wallMs.n)];
    }),
    [false, true, true, true, true, true, true, true],
  );
  const rel = markdownTable(
    ["comparison", "naive / deep: wall", "CPU", "peak RSS", "extra wall", "extra CPU", "extra RSS"],
    result.pairs.map((p) => [
      `${p.name} (${p.naive} vs ${p.baseline})`,
      formatRatio(p.ratio.wallMs),
      formatRatio(p.ratio.cpuMs),
      formatRatio(p.ratio.maxRssBytes),
      signed(p.extra.wallMs, formatMs),
      signed(p.extra.cpuMs, formatMs),
      signed(p.extra.maxRssBytes, formatMiB),
    ]),
    [false, true, true, true, true, true, true],
  );
  return `${abs}\n\n${rel}`;
}

/** Markdown: per workload, absolute numbers and ratios vs jobstack over HTTP. */
/** How a workload was enqueued: one call per job, or bulk calls (bench/jobs.ts measure()). */
function enqueueing(job: object, inFlight: number): string {
  if ("batchSize" in job && typeof job.batchSize === "number") {
    return `bulk calls of ${job.batchSize} jobs, ${Math.max(1, Math.floor(inFlight / 8))} in flight`;
  }
  return `${inFlight} enqueues in flight`;
}

export function renderJobs(result: JobsResult): string {
  const s = result.settings;
  const parts: string[] = [];
  for (const w of result.workloads) {
    const payload = JSON.stringify(w.job.payload);
    parts.push(
      `**${w.workload}** — ${w.count.toLocaleString("en-US")} \`${w.job.type}\` jobs (payload \`${payload}\`), ${s.workers} workers × ${s.concurrency}, ${enqueueing(w.job, s.inFlight)}, ${s.reps} interleaved runs each; ratios vs ${w.baseline}`,
      "",
      markdownTable(
        ["system", "jobs/s (median)", "jobs/s range", "throughput vs jobstack", "drain (median)", "enqueue (median)", "enqueue vs jobstack", "failed"],
        w.systems.map((x) => [
          x.system,
          formatRate(x.throughput.median),
          `${formatRate(x.throughput.min)} – ${formatRate(x.throughput.max)}`,
          formatRatio(x.throughputRatio),
          formatMs(x.drainMs.median),
          formatMs(x.enqueueMs.median),
          formatRatio(x.enqueueRatio),
          String(x.samples.reduce((n, y) => n + y.failed, 0)),
        ]),
        [false, true, true, true, true, true, true, true],
      ),
      "",
    );
    const cpu = renderCpu(w);
    if (cpu) parts.push(`CPU time per job (median of the runs), by component:`, "", cpu, "");
  }
  return parts.join("\n").trimEnd();
}

/** Columns in this order; a component no system reports is left out, an unknown one goes last. */
const CPU_COLUMNS = ["total", "workers", "api", "postgres (own database)", "rabbitmq (whole server)", "redis (whole server)", "bench client"];

function renderCpu(w: JobsResult["workloads"][number]): string | null {
  const seen = new Set(w.systems.flatMap((x) => Object.keys(x.cpuMsPerJob ?? {})));
  if (seen.size === 0) return null;
  const columns = [...CPU_COLUMNS.filter((c) => seen.has(c)), ...[...seen].filter((c) => !CPU_COLUMNS.includes(c)).sort()];
  return markdownTable(
    ["system", ...columns.map((c) => (c === "total" ? "total CPU / job" : c))],
    w.systems.map((x) => [x.system, ...columns.map((c) => (x.cpuMsPerJob?.[c] === undefined ? "–" : formatMsFine(x.cpuMsPerJob[c]!)))]),
    [false, ...columns.map(() => true)],
  );
}

function machineLine(stored: Stored<unknown>): string {
  const m = stored.machine;
  const args = stored.args ?? []; // absent in files written before it was recorded
  const how = args.length > 0 ? `\`npm run bench -- ${args.join(" ")}\`` : "`npm run bench`";
  return `_${m.date.slice(0, 16).replace("T", " ")} UTC · Node ${m.node} · ${m.cpus} × ${m.cpuModel} · ${Math.round(m.memoryMiB / 1024)} GiB · load average ${m.loadAverage1m} at start · ${how} · ${Math.round(stored.durationMs / 1000)} s_`;
}

/** The server-side time EXPLAIN ANALYZE reported for the plan, or "–". */
function execution(plan: readonly string[] | undefined): string {
  const ms = (plan ?? []).map((line) => /^Execution Time: ([\d.]+) ms/.exec(line)?.[1]).find((v) => v !== undefined);
  return ms === undefined ? "–" : formatMsFine(Number(ms));
}

/** Markdown: one row per query, with the index the plan used and its execution time. */
export function renderSearch(result: SearchResult): string {
  const index = (plan: readonly string[] | undefined) => {
    const used = [...new Set((plan ?? []).flatMap((line) => [.../(?:Index Only Scan|Index Scan)(?: Backward)? using (\w+)/.exec(line)?.slice(1) ?? []]))];
    return used.length > 0 ? used.map((u) => `\`${u}\``).join(", ") : "–";
  };
  return markdownTable(
    ["query", "items", "HTTP median", "HTTP p95", "HTTP range", "query median", "query range", "Postgres execution", "index (plan)", "n"],
    result.queries.map((q) => [
      q.name,
      String(q.items),
      formatMsFine(q.ms.median),
      formatMsFine(q.p95Ms),
      range(q.ms, formatMsFine),
      q.dbMs ? formatMsFine(q.dbMs.median) : "–",
      q.dbMs ? range(q.dbMs, formatMsFine) : "–",
      execution(q.plan),
      index(q.plan),
      String(q.ms.n),
    ]),
    [false, true, true, true, true, true, true, true, false, true],
  );
}

export function renderReport(synth: Stored<SynthResult> | null, jobs: Stored<JobsResult> | null, search: Stored<SearchResult> | null = null): string {
  const out = [
    "# Benchmark results",
    "",
    "Generated by `npm run bench` (bench/run.ts) from the JSON files next to this one, which also hold",
    "every raw sample. All variants of a table ran side by side in one run, interleaved, on a shared",
    "machine: read the ratios first, and the ranges before trusting a small difference.",
    "",
  ];
  if (jobs) out.push(renderTargets(jobs.result, jobs.quick));
  if (jobs) {
    out.push(
      "## Job throughput: jobstack vs BullMQ vs graphile-worker (`bench/jobs.ts`)",
      "",
      machineLine(jobs),
      "",
      "End to end: from the first enqueue call until every job is seen finished in the system's own",
      "store (jobstack's `jobs` table, BullMQ's job counts, graphile's job table), polled every 25 ms.",
      "Each system: 2 worker processes × concurrency 8, the same handlers (jobstack's builtins), one",
      "enqueue call per job with 32 outstanding. jobstack runs its real processes (api + 2 workers);",
      "\"HTTP API\" enqueues with `POST /jobs` (keep-alive connections from undici's `Pool`), \"direct\"",
      "runs the API's code path (insert + audit row, then cache write and publish with confirm, mark",
      "dispatched) inside the benchmark process. **batch** enqueues the same noop jobs with each",
      "system's bulk call, 100 jobs a call, 4 calls in flight: `POST /jobs/batch` (HTTP) or",
      "`repo.submitBatch` (direct), BullMQ's `Queue.addBulk`, graphile's `addJobs`.",
      "The peers run with the throughput settings their documentation gives: graphile-worker with the",
      "configuration of its performance page (`localQueue: { size: 500 }`, `completeJobBatchDelay: 0`,",
      "`failJobBatchDelay: 0`); BullMQ with its defaults plus `maxRetriesPerRequest: null` on the",
      "worker's connection (its production guide), bulk adds through `addBulk`. Concurrency is the",
      "same for every system (2 processes × 8).",
      "Throughput ratio > 1 means faster than jobstack over HTTP; enqueue ratio < 1 means faster.",
      "CPU per job is user + system time read from /proc over each run: the system's own processes",
      "(workers, api), the Postgres backends of its own database, the shared RabbitMQ and Redis servers",
      "as whole processes (anything else they serve meanwhile counts too), and the benchmark process",
      "(the client: HTTP requests or library enqueue calls, plus the polling). Every system here is",
      "CPU-bound on a small machine, so this column explains most of the throughput ratios and is far",
      "steadier than wall time when neighbours are busy.",
      "",
      renderJobs(jobs.result),
      "",
      "What each system does per job differs; read the ratios with that in mind. jobstack commits the",
      "job with its audit row, publishes to a quorum queue with a publisher confirm (fsynced), commits",
      "the dispatch mark; a worker commits the claim and then the outcome, each with an audit row, and",
      "writes the cache twice: four synchronous Postgres commits and a RabbitMQ fsync per job (under",
      "load, concurrent transitions share a statement and its commit: group commit), and",
      "every state change is on record. graphile-worker commits one insert and one delete per job.",
      "BullMQ keeps everything in Redis, which fsyncs nothing per job by default (here: no AOF).",
      "Postgres runs with its defaults (`fsync` and `synchronous_commit` on) for both that use it.",
      "",
    );
  }
  if (search) {
    const r = search.result;
    const indexes = Object.entries(r.indexMiB)
      .map(([name, size]) => `\`${name}\` ${size} MiB`)
      .join(", ");
    out.push(
      `## Job search at ${r.rows.toLocaleString("en-US")} jobs (\`bench/search.ts\`)`,
      "",
      machineLine(search),
      "",
      "`GET /jobs` and `GET /jobs/stats` through the real api (loopback HTTP, body read to the end);",
      "\"query\" is the repository's search call alone, one round trip to Postgres (bench process → server);",
      "\"Postgres execution\" is the server's own time for the statement (one `EXPLAIN ANALYZE`),",
      `against a table of ${r.rows.toLocaleString("en-US")} jobs: 8 types; 90 % COMPLETED, 3 % FAILED, 4 % PENDING, 1 % RUNNING,`,
      "2 % CANCELLED; created over 30 days; vacuumed and analyzed. Queries run in rotation after",
      `warm-up. Table ${r.tableMiB} MiB, filled in ${formatMs(r.fillMs)}; indexes: ${indexes}.`,
      "",
      renderSearch(r),
      "",
      "A page reads at most `limit` index entries per requested state (`services/core/jobs/search.ts`),",
      "so its time does not grow with the table; the stats count every row through an index.",
      "",
    );
  }
  if (synth) {
    out.push(
      "## Synth: deep provider imports vs the root import (`bench/synth.ts`)",
      "",
      machineLine(synth),
      "",
      "Every sample is a fresh `node --import tsx` process. `app` is the real app (`stacks/main.ts`,",
      "every environment, written to a temporary directory); `app+root` is the same after importing",
      "`@cdktf/provider-kubernetes` and `@cdktf/provider-docker` from their package roots, as a naive",
      "import would. `deep`/`root` import only the providers (the deep modules the stacks use, or the",
      "two roots) and synthesize nothing. Wall time includes Node and tsx start-up; CPU is the child's",
      "user + system time, which a busy neighbour disturbs far less than wall time; RSS is its peak.",
      "",
      renderSynth(synth.result),
      "",
    );
  }
  return `${out.join("\n").trimEnd()}\n`;
}

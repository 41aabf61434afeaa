import { describe, expect, it } from "vitest";
import { renderJobs, renderReport, renderSearch, renderSynth } from "../../bench/lib/render.js";
import type { JobsResult, SearchResult, Stored, SynthResult } from "../../bench/lib/results.js";
import { summarize } from "../../bench/lib/stats.js";

const MB = 1024 * 1024;
const machine = { date: "2026-01-02T03:04:05.000Z", node: "v20.0.0", platform: "linux", cpus: 2, cpuModel: "Test CPU", memoryMiB: 4096, loadAverage1m: 1.5 };

const synth: SynthResult = {
  reps: 2,
  order: [
    ["app", "app+root"],
    ["app+root", "app"],
  ],
  samples: {},
  summaries: {
    app: { wallMs: summarize([1000, 1200]), cpuMs: summarize([900, 1000]), maxRssBytes: summarize([100 * MB, 100 * MB]) },
    "app+root": { wallMs: summarize([3000, 3400]), cpuMs: summarize([2000, 2000]), maxRssBytes: summarize([300 * MB, 300 * MB]) },
  },
  pairs: [{ name: "real app", baseline: "app", naive: "app+root", ratio: { wallMs: 3.2 / 1.1, cpuMs: 2000 / 950, maxRssBytes: 3 }, extra: { wallMs: 2100, cpuMs: 1050, maxRssBytes: 200 * MB } }],
};

const jobs: JobsResult = {
  settings: { reps: 2, workers: 2, concurrency: 8, inFlight: 32, warmup: 10 },
  workloads: [
    {
      workload: "noop",
      job: { type: "noop", payload: {} },
      count: 100,
      baseline: "jobstack (HTTP API)",
      order: [],
      systems: [
        {
          system: "jobstack (HTTP API)",
          samples: [{ enqueueMs: 900, drainMs: 1000, failed: 0, cpuMs: { workers: 300, api: 200 } }],
          enqueueMs: summarize([900]),
          drainMs: summarize([1000]),
          throughput: summarize([100]),
          throughputRatio: 1,
          enqueueRatio: 1,
          cpuMsPerJob: { workers: 3, api: 2, total: 5 },
        },
        {
          system: "BullMQ",
          samples: [{ enqueueMs: 50, drainMs: 100, failed: 1, cpuMs: { workers: 40 } }],
          enqueueMs: summarize([50]),
          drainMs: summarize([100]),
          throughput: summarize([1000]),
          throughputRatio: 10,
          enqueueRatio: 50 / 900,
          cpuMsPerJob: { workers: 0.4, total: 0.4 },
        },
      ],
    },
  ],
};

describe("renderSynth", () => {
  it("has one row per variant with absolute numbers and one row of ratios and extras per pair", () => {
    const md = renderSynth(synth);
    expect(md).toContain("| app | 1.10 s | 1.00 s – 1.20 s | 950 ms | 900 ms – 1.00 s | 100 MB | 100 MB – 100 MB | 2 |");
    expect(md).toContain("| real app (app+root vs app) | 2.91× | 2.11× | 3.00× | +2.10 s | +1.05 s | +200 MB |");
  });
});

describe("renderJobs", () => {
  it("shows throughput and enqueue ratios against jobstack and counts failures", () => {
    const md = renderJobs(jobs);
    expect(md).toContain("**noop** — 100 `noop` jobs");
    expect(md).toContain("| jobstack (HTTP API) | 100/s | 100/s – 100/s | 1.00× | 1.00 s | 900 ms | 1.00× | 0 |");
    expect(md).toContain("| BullMQ | 1,000/s | 1,000/s – 1,000/s | 10.0× | 100 ms | 50 ms | 0.06× | 1 |");
  });

  it("adds a CPU-per-job table with only the components some system reports, total first", () => {
    const md = renderJobs(jobs);
    expect(md).toContain("| system | total CPU / job | workers | api |");
    expect(md).toContain("| jobstack (HTTP API) | 5.0 ms | 3.0 ms | 2.0 ms |");
    expect(md).toContain("| BullMQ | 0.40 ms | 0.40 ms | – |");
  });
});

const search: SearchResult = {
  rows: 1_000_000,
  fillMs: 61_000,
  tableMiB: 120,
  indexMiB: { jobs_state_created_idx: 40 },
  queries: [
    {
      name: "state=FAILED",
      path: "/jobs?state=FAILED",
      items: 50,
      samplesMs: [2, 3, 4],
      ms: summarize([2, 3, 4]),
      p95Ms: 4,
      dbSamplesMs: [1, 1.5],
      dbMs: summarize([1, 1.5]),
      plan: ["Limit", "  ->  Index Scan using jobs_state_created_idx on jobs j (actual rows=50 loops=1)", "Execution Time: 0.125 ms"],
    },
    { name: "stats", path: "/jobs/stats", items: 0, samplesMs: [90], ms: summarize([90]), p95Ms: 90 },
  ],
};

describe("renderSearch", () => {
  it("one row per query, with the index its plan used", () => {
    const md = renderSearch(search);
    expect(md).toContain("| state=FAILED | 50 | 3.0 ms | 4.0 ms | 2.0 ms – 4.0 ms | 1.3 ms | 1.0 ms – 1.5 ms | 0.13 ms | `jobs_state_created_idx` | 3 |");
    expect(md).toContain("| stats | 0 | 90.0 ms | 90.0 ms | 90.0 ms – 90.0 ms | – | – | – | – | 1 |");
  });
});

describe("renderReport", () => {
  const stored = <T>(name: string, result: T): Stored<T> => ({ name, machine, quick: false, args: [], durationMs: 61_000, result });

  it("includes each section whose results exist, with the machine it ran on", () => {
    const md = renderReport(stored("synth", synth), stored("jobs", jobs), stored("search", search));
    expect(md).toContain("## Job search at 1,000,000 jobs");
    expect(md).toMatch(/^# Benchmark results\n/);
    expect(md).toContain("## Job throughput");
    expect(md).toContain("## Synth");
    expect(md).toContain("2026-01-02 03:04 UTC · Node v20.0.0 · 2 × Test CPU · 4 GiB · load average 1.5 at start · `npm run bench` · 61 s");
  });

  it("leaves out a section without results", () => {
    const md = renderReport(null, stored("jobs", jobs));
    expect(md).not.toContain("## Synth");
    expect(md.endsWith("\n")).toBe(true);
  });
});

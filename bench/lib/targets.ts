/**
 * The targets of issue 12 against a job benchmark's medians, met or not, for the top of
 * bench/results/README.md. Pure: results in, Markdown out. A target this harness does not
 * measure says so instead of passing.
 */
import type { JobsResult } from "./results.js";
import { markdownTable } from "./stats.js";

interface Target {
  readonly target: string;
  /** `workload` medians: jobs/s of `system` over jobs/s of `peer`, at least `atLeast`. */
  readonly check?: { readonly workload: string; readonly system: string; readonly peer: string; readonly atLeast: number };
  readonly note?: string;
}

const TARGETS: readonly Target[] = [
  { target: "worker path (direct) ≥ 1.0× BullMQ, noop", check: { workload: "noop", system: "jobstack-direct", peer: "bullmq", atLeast: 1 } },
  { target: "worker path (direct) ≥ 1.0× BullMQ, hash", check: { workload: "hash", system: "jobstack-direct", peer: "bullmq", atLeast: 1 } },
  { target: "worker path (direct) ≥ 2× graphile-worker, noop", check: { workload: "noop", system: "jobstack-direct", peer: "graphile-worker", atLeast: 2 } },
  { target: "worker path (direct) ≥ 2× graphile-worker, hash", check: { workload: "hash", system: "jobstack-direct", peer: "graphile-worker", atLeast: 2 } },
  { target: "HTTP API, one job a request, 32 in flight: ≥ 2× graphile-worker (noop)", check: { workload: "noop", system: "jobstack-http", peer: "graphile-worker", atLeast: 2 } },
  { target: "HTTP API, one job a request, 32 in flight: ≥ 0.5× BullMQ (noop)", check: { workload: "noop", system: "jobstack-http", peer: "bullmq", atLeast: 0.5 } },
  { target: "`POST /jobs/batch` ≥ 1.0× BullMQ `addBulk`", check: { workload: "batch", system: "jobstack-http", peer: "bullmq", atLeast: 1 } },
  { target: "`GET /jobs/:id` p99 under 5 ms, warm cache, workers at full speed", note: "measured by bench/probe-http.ts, not here: see throughput-notes.md (not met)" },
  { target: "CPU per job by component, every row", note: "met: the CPU tables below" },
  { target: "throughput with 1, 2 and 4 worker processes", note: "measured in separate runs: throughput-notes.md" },
];

const median = (r: JobsResult, workload: string, key: string) =>
  r.workloads.find((w) => w.workload === workload)?.systems.find((s) => s.key === key)?.throughput.median;

export function renderTargets(result: JobsResult, quick: boolean): string {
  const rows = TARGETS.map((t) => {
    if (!t.check) return [t.target, "–", t.note ?? ""];
    const { workload, system, peer, atLeast } = t.check;
    const a = median(result, workload, system);
    const b = median(result, workload, peer);
    if (a === undefined || b === undefined) return [t.target, "–", "not in this run"];
    const ratio = a / b;
    return [t.target, `${ratio.toFixed(2)}×`, ratio >= atLeast ? "**met**" : "not met"];
  });
  return [
    "## Targets (issue 12)",
    "",
    `Ratios of median jobs/s from the run below${quick ? " (a `--quick` run: fewer jobs and runs than the issue's 10,000 × 3, so a rough reading)" : ""}, side by side on one machine.`,
    "",
    markdownTable(["target", "ratio", "status"], rows, [false, true, false]),
    "",
  ].join("\n");
}

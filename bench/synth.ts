/**
 * Synth cost of deep provider imports vs the naive root import: why the stacks import provider
 * classes only from deep paths (README.md "How it fits together"; results in "What the benchmarks show").
 *
 *   npx tsx bench/synth.ts [--quick] [--reps N]
 *
 * Each sample is a fresh `node --import tsx bench/synth-child.ts <variant>` process, so module
 * caches never carry over. Variants run interleaved (round r rotates the order by r) and each
 * one N times; we report the median and range of
 *   wall    spawn to exit, measured here (includes Node and tsx start-up, as `cdktf synth` does)
 *   cpu     user + system CPU time of the child (its own process.resourceUsage()); much steadier
 *           than wall time on a shared machine, where wall time mostly measures the neighbours
 *   rss     the child's peak resident set size
 * and the ratio root-import / deep-import for each pair:
 *   app vs app+root   the real app (stacks/main.ts, every environment, written to a temp dir)
 *   deep vs root      only the provider imports, no synth (isolates the import itself)
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { argValue, runTsx } from "./lib/env.js";
import { renderSynth } from "./lib/render.js";
import type { SynthResult, SynthSample, SynthVariant } from "./lib/results.js";
import { formatMiB, formatMs, interleave, ratio, summarize } from "./lib/stats.js";

export interface SynthPair {
  readonly name: string;
  readonly baseline: SynthVariant;
  readonly naive: SynthVariant;
}

export const SYNTH_PAIRS: readonly SynthPair[] = [
  { name: "real app synth, all environments", baseline: "app", naive: "app+root" },
  { name: "provider imports only, no synth", baseline: "deep", naive: "root" },
];

export interface SynthOptions {
  readonly reps: number;
  /** Both pairs by default; `--quick` keeps only the real app. */
  readonly pairs?: readonly SynthPair[];
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

async function sample(variant: SynthVariant, timeoutMs: number): Promise<SynthSample> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), "jobstack-bench-synth-"));
  try {
    const { stdout, wallMs } = await runTsx("bench/synth-child.ts", [variant], { CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1" }, timeoutMs);
    const line = stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
    if (!line) throw new Error(`synth child (${variant}) printed no BENCH_RESULT line:\n${stdout.slice(-2000)}`);
    const r = JSON.parse(line.slice("BENCH_RESULT ".length)) as { cpuMs: number; maxRssBytes: number };
    return { wallMs, cpuMs: r.cpuMs, maxRssBytes: r.maxRssBytes };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export async function runSynthBench(options: SynthOptions): Promise<SynthResult> {
  const pairs = options.pairs ?? SYNTH_PAIRS;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 180_000;
  const variants = [...new Set(pairs.flatMap((p) => [p.baseline, p.naive]))];
  const order = interleave(variants, options.reps);
  const samples: Record<string, SynthSample[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (const [r, round] of order.entries()) {
    for (const v of round) {
      const s = await sample(v, timeoutMs);
      samples[v]!.push(s);
      log(`synth ${r + 1}/${options.reps} ${v.padEnd(8)} wall ${formatMs(s.wallMs)}  cpu ${formatMs(s.cpuMs)}  rss ${formatMiB(s.maxRssBytes)}`);
    }
  }
  const summaries = Object.fromEntries(
    variants.map((v) => {
      const ss = samples[v]!;
      return [v, { wallMs: summarize(ss.map((s) => s.wallMs)), cpuMs: summarize(ss.map((s) => s.cpuMs)), maxRssBytes: summarize(ss.map((s) => s.maxRssBytes)) }];
    }),
  );
  return {
    reps: options.reps,
    order,
    samples,
    summaries,
    pairs: pairs.map((p) => {
      const b = summaries[p.baseline]!;
      const n = summaries[p.naive]!;
      return {
        name: p.name,
        baseline: p.baseline,
        naive: p.naive,
        ratio: { wallMs: ratio(n.wallMs.median, b.wallMs.median), cpuMs: ratio(n.cpuMs.median, b.cpuMs.median), maxRssBytes: ratio(n.maxRssBytes.median, b.maxRssBytes.median) },
        extra: { wallMs: n.wallMs.median - b.wallMs.median, cpuMs: n.cpuMs.median - b.cpuMs.median, maxRssBytes: n.maxRssBytes.median - b.maxRssBytes.median },
      };
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const quick = process.argv.includes("--quick");
  const reps = Number(argValue("--reps") ?? (quick ? 3 : 5));
  const result = await runSynthBench({ reps, ...(quick && { pairs: SYNTH_PAIRS.slice(0, 1) }), log: (l) => console.log(l) });
  console.log(`\n${renderSynth(result)}`);
}

/**
 * The top of a V8 CPU profile (`node --cpu-prof`, see BENCH_CPU_PROF in bench/lib/env.ts): self
 * time by function, the largest first, as a share of the samples taken while not idle.
 *
 *   npx tsx bench/lib/profile-top.ts <file.cpuprofile> [N] [--from-ms M]
 *
 * `--from-ms M` leaves out the first M ms of the profile (start-up: under tsx, loading and
 * compiling the sources dominates a short run's profile otherwise).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export function profileTop(file: string, n = 12, fromMs = 0): { busyMs: number; idleMs: number; top: { name: string; ms: number; share: number }[] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  let at = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    at += dt;
    if (at < fromMs) return;
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)" || f.functionName === "(program)") {
      idle += f.functionName === "(idle)" ? dt : 0;
      if (f.functionName === "(idle)") return;
    }
    busy += dt;
    const where = f.url ? `${path.basename(f.url.replace(/^file:\/\//, ""))}:${f.lineNumber + 1}` : "native";
    const name = `${f.functionName || "(anonymous)"} ${where}`;
    self.set(name, (self.get(name) ?? 0) + dt);
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms, share: ms / busy }));
  return { busyMs: busy, idleMs: idle, top };
}

if (process.argv[1]?.endsWith("profile-top.ts")) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [N]");
  const from = process.argv.indexOf("--from-ms");
  const { busyMs, idleMs, top } = profileTop(file, Number(process.argv[3] ?? 12), from > 0 ? Number(process.argv[from + 1]) : 0);
  console.log(`${path.basename(file)}: busy ${Math.round(busyMs)} ms, idle ${Math.round(idleMs)} ms`);
  for (const t of top) console.log(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`);
}

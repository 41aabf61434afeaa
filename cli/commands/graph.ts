/**
 * `jobstack graph --env <name> [--preset <p>] [--out <dir>] [--format mermaid|dot]`: the deployed
 * topology of one environment — services, the dedicated network or namespace, published ports,
 * allowed edges and volumes — drawn from its synthesized Terraform JSON (stacks/policy/graph.ts).
 * Synthesizes the environment into a temporary folder unless `--out` names an existing output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandSelection, loadEnvironments } from "../../stacks/config/index.js";
import { toDot, toMermaid, topologyGraph } from "../../stacks/policy/graph.js";
import { loadSynthOutput } from "../../stacks/policy/load.js";
import { synthesize } from "../../stacks/synth.js";
import { UsageError } from "../usage.js";

export interface GraphOptions {
  readonly env: string;
  readonly preset?: string;
  readonly out?: string;
  readonly format: "mermaid" | "dot";
}

export async function graphCommand(opts: GraphOptions): Promise<string> {
  if (opts.out !== undefined && opts.preset !== undefined) {
    throw new UsageError("--preset cannot be used with --out: the preset was chosen when that output was synthesized");
  }
  const render = (outdir: string): string => {
    const [stack] = loadSynthOutput(outdir, [opts.env]);
    const graph = topologyGraph(stack!);
    return opts.format === "dot" ? toDot(graph) : toMermaid(graph);
  };
  // A missing or incomplete synth output throws SynthOutputError: cli/run.ts prints it alone, exit 1.
  if (opts.out !== undefined) return render(opts.out);
  const environments = loadEnvironments(commandSelection({ env: opts.env, preset: opts.preset }));
  const dir = mkdtempSync(join(tmpdir(), "jobstack-graph-"));
  try {
    synthesize(environments, dir);
    return render(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

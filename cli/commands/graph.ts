/**
 * `jobstack graph --env <name> [--preset <p>] [--out <dir>] [--format mermaid|dot]`: the deployed
 * topology of one environment — services, the dedicated network or namespace, published ports,
 * allowed edges and volumes — drawn from its synthesized Terraform JSON (stacks/graph).
 * Synthesizes the environment into a temporary folder unless `--out` names an existing output.
 */
import { commandSelection, loadEnvironments } from "../../stacks/config/index.js";
import { toDot, toMermaid, topologyGraph } from "../../stacks/graph/index.js";
import { loadSynthOutput } from "../../stacks/policy/load.js";
import { withSynthesizedDir } from "../../stacks/synth-to-dir.js";
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
  return withSynthesizedDir(environments, "graph", render);
}

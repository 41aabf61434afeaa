/**
 * `jobstack validate`: policy checks (stacks/policy) over synthesized Terraform JSON.
 *
 *   jobstack validate                         synthesize every environment (or JOBSTACK_ENVS, with
 *                                             JOBSTACK_PRESET, as `cdktf synth` would), check each stack
 *   jobstack validate --env prod --preset low-latency
 *   jobstack validate --out cdktf.out --env prod   check an existing synth output, no synthesis
 *   jobstack validate --matrix [--format junit]    every environment × every preset
 *
 * Exit code 0 when clean, 1 on any violation or invalid configuration.
 */
import { commandSelection, ConfigError } from "../../stacks/config/index.js";
import { entriesOf, entriesOk, matrixEntries, matrixTable, toJson, toJunit, toText, type Entry } from "../../stacks/policy/report.js";
import { validateMatrix, validateOutdir, validateSelection, type MatrixResult } from "../../stacks/policy/validate.js";
import { EXIT, UsageError } from "../usage.js";

export interface ValidateOptions {
  readonly env?: string;
  readonly preset?: string;
  readonly out?: string;
  readonly format: "text" | "json" | "junit";
  readonly matrix: boolean;
}

export async function validateCommand(opts: ValidateOptions, out: (s: string) => void): Promise<number> {
  if (opts.out !== undefined && opts.preset !== undefined) {
    throw new UsageError("--preset cannot be used with --out: the preset was chosen when that output was synthesized (JOBSTACK_PRESET)");
  }
  if (opts.out !== undefined && opts.matrix) throw new UsageError("--matrix synthesizes every environment × preset itself; it cannot be used with --out");

  let entries: Entry[];
  let matrix: MatrixResult | undefined;
  if (opts.matrix) {
    const dir = commandSelection({}).dir;
    matrix = validateMatrix({ ...(opts.env ? { envs: [opts.env] } : {}), ...(opts.preset ? { presets: [opts.preset] } : {}), ...(dir ? { dir } : {}) });
    entries = matrixEntries(matrix);
  } else if (opts.out !== undefined) {
    // A missing or incomplete synth output throws SynthOutputError: cli/run.ts prints it alone, exit 1.
    entries = entriesOf(validateOutdir(opts.out, opts.env ? [opts.env] : undefined));
  } else {
    try {
      // Like `cdktf synth`: JOBSTACK_ENVS / JOBSTACK_PRESET apply unless --env / --preset say otherwise.
      entries = entriesOf(validateSelection(commandSelection({ env: opts.env, preset: opts.preset })));
    } catch (err) {
      if (!(err instanceof ConfigError) || opts.format === "text") throw err; // cli/run.ts prints it, exit 1
      entries = [{ name: opts.env ?? "configuration", stack: opts.env ?? "configuration", error: err }];
    }
  }

  if (opts.format === "json") out(toJson(entries, matrix));
  else if (opts.format === "junit") out(toJunit(entries));
  else out(matrix ? `${matrixTable(matrix)}\n\n${toText(entries)}` : toText(entries));
  return entriesOk(entries) ? EXIT.ok : EXIT.invalid;
}

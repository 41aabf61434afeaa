/**
 * Synthesize-and-check, for `jobstack validate` and the tests.
 *
 * `validateOutdir` reads an existing synth output. `validateSelection` synthesizes the selected
 * environments into a temporary folder first. `validateMatrix` checks every environment under
 * every preset: one cdktf App per preset holds all environments that resolve under it, so each
 * environment is synthesized exactly once per preset; an environment whose configuration is
 * invalid under a preset becomes a failed cell carrying the configuration error.
 */
import { listPresets } from "../../presets/index.js";
import { ConfigError, listEnvironments, loadEnvironments, type ResolvedEnvironment, type Selection } from "../config/index.js";
import { withSynthesizedDir } from "../synth-to-dir.js";
import { loadSynthOutput } from "./load.js";
import { checkStacks, type StackReport } from "./registry.js";

export function validateOutdir(outdir: string, envs?: readonly string[]): StackReport[] {
  return checkStacks(loadSynthOutput(outdir, envs));
}

/** Synthesizes into a temporary folder, checks, and removes the folder. */
export function synthesizeAndCheck(environments: readonly ResolvedEnvironment[]): StackReport[] {
  if (environments.length === 0) return [];
  return withSynthesizedDir(environments, "validate", (dir) => validateOutdir(dir));
}

/** Throws ConfigError when any selected environment is invalid (as `cdktf synth` would). */
export function validateSelection(selection: Selection): StackReport[] {
  return synthesizeAndCheck(loadEnvironments(selection));
}

export interface MatrixCell {
  readonly environment: string;
  readonly preset: string;
  readonly status: "pass" | "fail" | "invalid";
  /** Present when the stack was synthesized and checked. */
  readonly report?: StackReport;
  /** The configuration error, for `invalid` cells. */
  readonly error?: ConfigError;
}

export interface MatrixResult {
  readonly environments: readonly string[];
  readonly presets: readonly string[];
  readonly cells: readonly MatrixCell[];
  readonly ok: boolean;
}

export function validateMatrix(
  options: { readonly envs?: readonly string[]; readonly presets?: readonly string[]; /** @default stacks/environments */ readonly dir?: string } = {},
): MatrixResult {
  const environments = options.envs ?? listEnvironments(options.dir);
  const presets = options.presets ?? listPresets();
  const cells: MatrixCell[] = [];
  for (const preset of presets) {
    const resolved: ResolvedEnvironment[] = [];
    const invalid = new Map<string, ConfigError>();
    for (const environment of environments) {
      try {
        resolved.push(...loadEnvironments({ envs: [environment], preset, ...(options.dir ? { dir: options.dir } : {}) }));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        invalid.set(environment, err);
      }
    }
    const reports = new Map(synthesizeAndCheck(resolved).map((r) => [r.stack, r]));
    for (const environment of environments) {
      const error = invalid.get(environment);
      const report = reports.get(environment);
      if (error) cells.push({ environment, preset, status: "invalid", error });
      else if (report) cells.push({ environment, preset, status: report.violations.length === 0 ? "pass" : "fail", report });
    }
  }
  return { environments, presets, cells, ok: cells.every((c) => c.status === "pass") };
}

/**
 * Turns one environment file plus its preset into a ResolvedEnvironment: validated, merged,
 * cross-checked and fully derived. Every problem in either file is reported at once, and
 * nothing is returned from a configuration that failed.
 */
import { basename, join } from "node:path";
import { displayPath, readPresetSource } from "../../presets/index.js";
import { derive, presetIssues, type DerivedSettings } from "../../presets/derive.js";
import { PresetSchema, type Preset } from "../../presets/schema.js";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { environmentIssues } from "./environment-checks.js";
import { externalConnectionIssues } from "./ha-checks.js";
import { connectionBudget } from "../../presets/cross-checks.js";
import { deepMerge, leafPaths, touchedBy } from "./merge.js";
import { EnvironmentSchema, isProdLike, type Environment } from "./schema.js";
import { readYamlFile, type YamlSource } from "./yaml.js";
import { zodIssues } from "./zod-issues.js";

export interface PresetSelection {
  readonly name: string;
  readonly file: string;
  /** Who chose it: the environment file, or `JOBSTACK_PRESET` for this run. */
  readonly selectedBy: "environment" | "JOBSTACK_PRESET";
  /** Leaf paths of the preset that the environment's `overrides` set. */
  readonly overridden: readonly string[];
}

export interface ResolvedEnvironment {
  readonly name: string;
  readonly file: string;
  readonly environment: Environment;
  readonly prodLike: boolean;
  readonly presetSelection: PresetSelection;
  /** The preset with overrides merged in, validated. */
  readonly preset: Preset;
  readonly derived: DerivedSettings;
}

export interface ResolveOptions {
  /** Preset to use instead of the file's `preset` (what `JOBSTACK_PRESET` sets). */
  readonly presetOverride?: string;
  /** Where the override came from, named in errors. @default "JOBSTACK_PRESET" */
  readonly presetOverrideFrom?: string;
  /** Where preset files live. @default the shipped presets/ folder */
  readonly presetsDir?: string;
}

export function resolveEnvironmentFile(file: string, options: ResolveOptions = {}): ResolvedEnvironment {
  const source = readYamlFile(file, displayPath(file));
  return resolveEnvironmentSource(basename(file).replace(/\.ya?ml$/, ""), source, options);
}

export function resolveEnvironmentSource(name: string, source: YamlSource, options: ResolveOptions = {}): ResolvedEnvironment {
  const parsedEnv = EnvironmentSchema.safeParse(source.data);
  if (!parsedEnv.success) throw new ConfigError(zodIssues(parsedEnv.error, source));
  const environment = parsedEnv.data;

  const issues: ConfigIssue[] = environmentIssues(environment).map((i) => ({
    file: source.file,
    path: i.path,
    message: i.message,
    line: source.lineOf(i.path.split(".")),
  }));

  const presetName = options.presetOverride ?? environment.preset;
  const presetSource = readPresetSource(
    presetName,
    options.presetsDir,
    options.presetOverride ? { file: options.presetOverrideFrom ?? "JOBSTACK_PRESET", path: "" } : { file: source.file, path: "preset" },
  );
  const overridden = leafPaths(environment.overrides);
  // Blame the file the offending value came from: the environment's overrides or the preset.
  // A cross-field issue goes to the overrides when the override changed any field involved.
  const blame = (path: readonly PropertyKey[], message: string, related: readonly string[] = []): ConfigIssue => {
    const dotted = path.map(String).join(".");
    const culprit = [dotted, ...related].find((field) => touchedBy(overridden, field));
    if (culprit !== undefined) {
      const inEnv = ["overrides", ...culprit.split(".")];
      return { file: source.file, path: `overrides.${culprit}`, message, line: source.lineOf(inEnv) };
    }
    return { file: presetSource.file, path: dotted, message, line: presetSource.lineOf(path) };
  };

  const merged = deepMerge(presetSource.data, environment.overrides);
  const parsedPreset = PresetSchema.safeParse(merged);
  if (!parsedPreset.success) {
    for (const zi of zodIssues(parsedPreset.error, presetSource)) issues.push(blame(zi.path.split("."), zi.message));
    throw new ConfigError(issues);
  }
  const preset = parsedPreset.data;
  for (const ti of presetIssues(preset)) {
    // With an external Postgres the preset's max_connections configures nothing; the budget is
    // checked against the declared external.postgres.maxConnections instead (below).
    if (environment.external.postgres && ti.path === "postgres.maxConnections") continue;
    issues.push(blame(ti.path.replace(/\[(\d+)\]/g, ".$1").split("."), ti.message, ti.related));
  }
  for (const i of externalConnectionIssues(environment, connectionBudget(preset))) {
    issues.push({ file: source.file, path: i.path, message: i.message, line: source.lineOf(i.path.split(".")) });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  return {
    name,
    file: source.file,
    environment,
    prodLike: isProdLike(environment.tier),
    presetSelection: {
      name: presetName,
      file: presetSource.file,
      selectedBy: options.presetOverride ? "JOBSTACK_PRESET" : "environment",
      overridden,
    },
    preset,
    derived: derive(preset),
  };
}

export function environmentFile(dir: string, name: string): string {
  return join(dir, `${name}.yaml`);
}

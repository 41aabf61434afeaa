/**
 * Turns one environment file plus its preset into a ResolvedEnvironment: validated, merged,
 * cross-checked and fully derived. Every problem in either file is reported at once, and
 * nothing is returned from a configuration that failed.
 */
import { basename, join } from "node:path";
import { displayPath, readPresetSource } from "../../presets/index.js";
import { derive, presetIssues, type DerivedSettings } from "../../presets/derive.js";
import type { PresetContext } from "../../presets/cross-checks.js";
import { PresetSchema, type Preset } from "../../presets/schema.js";
import { retentionTierIssues } from "../../presets/storage-sizing.js";
import { ConfigError, type ConfigIssue } from "../../config-files/errors.js";
import { environmentIssues } from "./environment-checks.js";
import { resolveHandlers, type HandlerSelection } from "./handlers.js";
import { deepMerge, isPlainObject, leafPaths, touchedBy } from "./merge.js";
import { externalConnectionIssues } from "./ha-checks.js";
import { connectionBudget } from "../../presets/cross-checks.js";
import { EnvironmentSchema, isProdLike, type Environment } from "./schema.js";
import { readYamlFile, type YamlSource } from "../../config-files/yaml.js";
import { zodIssues } from "../../config-files/zod-issues.js";

export interface PresetSelection {
  readonly name: string;
  readonly file: string;
  /**
   * Who chose it: the environment file, or what forced it for this run (`JOBSTACK_PRESET`, or the
   * CLI's `--preset`).
   */
  readonly selectedBy: string;
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
  /** The handler modules api and worker load (stacks/config/handlers.ts). */
  readonly handlers: HandlerSelection;
}

export interface ResolveOptions {
  /** Preset to use instead of the file's `preset` (what `JOBSTACK_PRESET` sets). */
  readonly presetOverride?: string;
  /** Where the override came from, named in errors. @default "JOBSTACK_PRESET" */
  readonly presetOverrideFrom?: string;
  /** Where preset files live. @default the shipped presets/ folder */
  readonly presetsDir?: string;
  /** The repository root that handler paths are relative to. @default this repository */
  readonly repoRoot?: string;
}

export function resolveEnvironmentFile(file: string, options: ResolveOptions = {}): ResolvedEnvironment {
  const source = readYamlFile(file, displayPath(file));
  return resolveEnvironmentSource(basename(file).replace(/\.ya?ml$/, ""), source, options);
}

export function resolveEnvironmentSource(name: string, source: YamlSource, options: ResolveOptions = {}): ResolvedEnvironment {
  const issues: ConfigIssue[] = [];
  const parsedEnv = EnvironmentSchema.safeParse(source.data);
  // An environment that fails its schema still names its preset and overrides as far as they
  // can be read, so the preset's own problems show in the same run.
  const raw = isPlainObject(source.data) ? source.data : {};
  if (!parsedEnv.success) issues.push(...zodIssues(parsedEnv.error, source, [], EnvironmentSchema));
  const environment = parsedEnv.success ? parsedEnv.data : undefined;
  if (environment) {
    for (const i of environmentIssues(environment)) {
      issues.push({ file: source.file, path: i.path, message: i.message, line: source.lineOf(i.path.split(".")) });
    }
  }

  const presetName = options.presetOverride ?? environment?.preset ?? (typeof raw.preset === "string" ? raw.preset : undefined);
  const overrides = environment?.overrides ?? (isPlainObject(raw.overrides) ? raw.overrides : {});
  const presetSource = presetName === undefined ? undefined : readPresetOrIssue(presetName, source, options, issues);
  if (presetSource === undefined) throw new ConfigError(issues);

  const handlers = environment ? resolveHandlers(environment, options.repoRoot) : undefined;
  for (const i of handlers?.issues ?? []) {
    issues.push({ file: source.file, path: i.path, message: i.message, line: source.lineOf(["handlers", i.index]) });
  }

  const overridden = leafPaths(overrides);
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

  const context: PresetContext = { autoscaling: (environment?.target ?? raw.target) !== "docker" };
  const merged = deepMerge(presetSource.data, overrides);
  const parsedPreset = PresetSchema.safeParse(merged);
  if (!parsedPreset.success) {
    for (const zi of zodIssues(parsedPreset.error, presetSource, [], PresetSchema)) issues.push(blame(zi.path.split("."), zi.message));
  }
  // The checks whose sections parsed run even when others did not.
  const checked = parsedPreset.success ? parsedPreset.data : parsedSections(merged);
  for (const ti of presetIssues(checked, context)) {
    // With an external Postgres the preset's max_connections configures nothing; the budget is
    // checked against the declared external.postgres.maxConnections instead (below).
    if (environment?.external.postgres && ti.path === "postgres.maxConnections") continue;
    issues.push(blame(ti.path.replace(/\[(\d+)\]/g, ".$1").split("."), ti.message, ti.related));
  }
  if (environment && parsedPreset.success) {
    for (const i of externalConnectionIssues(environment, connectionBudget(parsedPreset.data, context))) {
      issues.push({ file: source.file, path: i.path, message: i.message, line: source.lineOf(i.path.split(".")) });
    }
  }
  // A retention under an hour in a prod-like tier is most likely a unit typo (docs/storage.md).
  if (environment && isProdLike(environment.tier) && checked.retention) {
    for (const ti of retentionTierIssues(checked as Preset, environment.tier)) issues.push(blame(ti.path.split("."), ti.message, ti.related));
  }
  if (issues.length > 0 || !environment || !parsedPreset.success) throw new ConfigError(issues);
  const preset = parsedPreset.data;

  return {
    name,
    file: source.file,
    environment,
    prodLike: isProdLike(environment.tier),
    presetSelection: {
      name: presetName!,
      file: presetSource.file,
      selectedBy: options.presetOverride ? (options.presetOverrideFrom ?? "JOBSTACK_PRESET") : "environment",
      overridden,
    },
    preset,
    derived: derive(preset, context),
    handlers: handlers!.selection,
  };
}

/** The preset's YAML, or undefined with the problem added to `issues` (an unknown name gets its line). */
function readPresetOrIssue(name: string, source: YamlSource, options: ResolveOptions, issues: ConfigIssue[]): YamlSource | undefined {
  const from = options.presetOverride
    ? { file: options.presetOverrideFrom ?? "JOBSTACK_PRESET", path: "" }
    : { file: source.file, path: "preset", ...lineField(source.lineOf(["preset"])) };
  try {
    return readPresetSource(name, options.presetsDir, from);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
    return undefined;
  }
}

const lineField = (line: number | undefined) => (line === undefined ? {} : { line });

/** Each top-level preset section that passes its own schema; the others are left out. */
function parsedSections(merged: unknown): Partial<Preset> {
  const data = isPlainObject(merged) ? merged : {};
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(PresetSchema.shape)) {
    const parsed = schema.safeParse(data[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as Partial<Preset>;
}

export function environmentFile(dir: string, name: string): string {
  return join(dir, `${name}.yaml`);
}

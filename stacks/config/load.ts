/**
 * The one place on the deployment side that reads environment variables: which environments to
 * synthesize (`JOBSTACK_ENVS`) and which preset to force (`JOBSTACK_PRESET`).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigIssue } from "../../config-files/errors.js";
import { didYouMean } from "../../config-files/suggest.js";
import { environmentFile, resolveEnvironmentFile, type ResolvedEnvironment, type ResolveOptions } from "./resolve.js";

export const ENVIRONMENTS_DIR = join(dirname(dirname(fileURLToPath(import.meta.url))), "environments");

export function listEnvironments(dir = ENVIRONMENTS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

export interface Selection {
  /** Folder of environment files. @default stacks/environments */
  readonly dir?: string;
  /** Environments to synthesize; all of them when undefined. */
  readonly envs?: readonly string[];
  readonly preset?: string;
  /**
   * Where `envs` and `preset` came from, named in errors.
   * @default { envs: "JOBSTACK_ENVS", preset: "JOBSTACK_PRESET" }
   */
  readonly from?: { readonly envs: string; readonly preset: string };
}

/** The labels for a selection made with the CLI's `--env` / `--preset`. */
export const CLI_FLAGS = { envs: "--env", preset: "--preset" } as const;

/**
 * Reads `JOBSTACK_ENVS` (comma-separated), `JOBSTACK_PRESET` and `JOBSTACK_ENVIRONMENTS_DIR`
 * (environment files kept outside this repository); blanks mean "not set".
 */
export function selectionFromEnv(env: NodeJS.ProcessEnv = process.env): Selection {
  const envs = env.JOBSTACK_ENVS?.split(",").map((s) => s.trim()).filter(Boolean);
  const preset = env.JOBSTACK_PRESET?.trim() || undefined;
  const dir = env.JOBSTACK_ENVIRONMENTS_DIR?.trim() || undefined;
  return { ...(envs && envs.length > 0 ? { envs } : {}), ...(preset ? { preset } : {}), ...(dir ? { dir } : {}) };
}

/**
 * What a `jobstack` command reads, so every command sees the configuration `npm run synth` sees:
 * `--env` / `--preset` when given, else `JOBSTACK_ENVS` / `JOBSTACK_PRESET`, and always the
 * environment files of `JOBSTACK_ENVIRONMENTS_DIR`. Errors name whichever of them chose.
 */
export function commandSelection(flags: { readonly env?: string | undefined; readonly preset?: string | undefined }, env: NodeJS.ProcessEnv = process.env): Selection {
  const fromEnv = selectionFromEnv(env);
  const envs = flags.env ? [flags.env] : fromEnv.envs;
  const preset = flags.preset ?? fromEnv.preset;
  return {
    ...(fromEnv.dir ? { dir: fromEnv.dir } : {}),
    ...(envs ? { envs } : {}),
    ...(preset ? { preset } : {}),
    from: { envs: flags.env ? CLI_FLAGS.envs : "JOBSTACK_ENVS", preset: flags.preset ? CLI_FLAGS.preset : "JOBSTACK_PRESET" },
  };
}

/**
 * Resolves the selected environments. Problems across all of them are collected and thrown
 * together, so one run shows everything that needs fixing and no stack is synthesized.
 */
export function loadEnvironments(selection: Selection = {}, options: Omit<ResolveOptions, "presetOverride"> & { dir?: string } = {}): ResolvedEnvironment[] {
  const dir = options.dir ?? selection.dir ?? ENVIRONMENTS_DIR;
  const known = listEnvironments(dir);
  const names = selection.envs ?? known;
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((n) => ({ file: selection.from?.envs ?? "JOBSTACK_ENVS", path: "", message: `unknown environment "${n}" (known: ${known.join(", ")})${didYouMean(n, known)}` })),
    );
  }
  const issues: ConfigIssue[] = [];
  const resolved: ResolvedEnvironment[] = [];
  for (const name of names) {
    try {
      resolved.push(
        resolveEnvironmentFile(environmentFile(dir, name), {
          ...(options.presetsDir ? { presetsDir: options.presetsDir } : {}),
          ...(selection.preset ? { presetOverride: selection.preset, presetOverrideFrom: selection.from?.preset ?? "JOBSTACK_PRESET" } : {}),
        }),
      );
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(dedupe(issues));
  return resolved;
}

/** Loads one environment by name, honouring an explicit preset (errors name `from`). */
export function loadEnvironment(name: string, preset?: string, dir = ENVIRONMENTS_DIR, from?: Selection["from"]): ResolvedEnvironment {
  const [env] = loadEnvironments({ envs: [name], ...(preset ? { preset } : {}), ...(from ? { from } : {}) }, { dir });
  return env!;
}

// The same JOBSTACK_PRESET problem would otherwise be repeated once per environment.
function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.file}|${i.path}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

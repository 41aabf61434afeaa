/**
 * Finds and reads preset files (`presets/<name>.yaml`). Validation of a preset happens after an
 * environment's overrides are merged over it (see stacks/config/resolve.ts); `loadPreset` is the
 * stand-alone path for listing and checking presets on their own.
 */
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config-files/errors.js";
import { readYamlFile, type YamlSource } from "../config-files/yaml.js";
import { didYouMean } from "../config-files/suggest.js";
import { zodIssues } from "../config-files/zod-issues.js";
import { PresetSchema, type Preset } from "./schema.js";

export const PRESETS_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = dirname(PRESETS_DIR);
const NAME = /^[a-z][a-z0-9-]*$/;

export function presetFile(name: string, dir = PRESETS_DIR): string {
  return join(dir, `${name}.yaml`);
}

/** Names of the shipped presets, sorted. */
export function listPresets(dir = PRESETS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

/** Reads a preset's YAML without validating it; an unknown name lists the known ones. */
export function readPresetSource(name: string, dir = PRESETS_DIR, referencedFrom?: { file: string; path: string; line?: number }): YamlSource {
  if (!NAME.test(name) || !listPresets(dir).includes(name)) {
    const known = listPresets(dir);
    throw new ConfigError([
      {
        file: referencedFrom?.file ?? displayPath(presetFile(name, dir)),
        path: referencedFrom?.path ?? "",
        message: `unknown preset "${name}" (known presets: ${known.join(", ")})${didYouMean(name, known)}`,
        line: referencedFrom?.line,
      },
    ]);
  }
  const file = presetFile(name, dir);
  return readYamlFile(file, displayPath(file));
}

/** Reads and validates one preset as shipped, with no overrides. */
export function loadPreset(name: string, dir = PRESETS_DIR): Preset {
  const source = readPresetSource(name, dir);
  const parsed = PresetSchema.safeParse(source.data);
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error, source, [], PresetSchema));
  return parsed.data;
}

export function displayPath(file: string): string {
  const rel = relative(REPO_ROOT, file);
  return rel.startsWith("..") ? file : rel;
}

/**
 * Deep merge for `overrides`: objects merge key by key, everything else (arrays included)
 * replaces. Also reports which leaf paths an override touched, so that a later error can
 * blame the environment file rather than the preset.
 */
export type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

/** Dotted paths of every leaf (non-object value) in `value`. */
export function leafPaths(value: unknown, prefix = ""): string[] {
  if (!isPlainObject(value)) return prefix ? [prefix] : [];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** True when `path` or one of its ancestors or descendants was set by the override. */
export function touchedBy(overridePaths: readonly string[], path: string): boolean {
  return overridePaths.some((p) => p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`));
}

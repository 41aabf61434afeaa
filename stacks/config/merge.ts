/**
 * Deep merge for `overrides`, as a JSON merge patch (RFC 7386): objects merge key by key, `null`
 * deletes the key, everything else (arrays included) replaces. Also reports which leaf paths an override touched, so that a later error can
 * blame the environment file rather than the preset.
 */
export type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(override)) return override === undefined ? base : override;
  // A patch object over a missing or non-object value starts from empty (RFC 7386 §2), so its
  // nulls never reach the schema as values.
  if (!isPlainObject(base)) return deepMerge({}, override);
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else out[key] = deepMerge(base[key], value);
  }
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

/**
 * What a tuning formula reports instead of throwing, so the resolver can collect every problem in
 * a preset and report them all at once (t3-env style).
 */
export interface TuningIssue {
  /** Dotted preset field path, e.g. "worker.jvm.g1RegionSizeMiB". */
  readonly path: string;
  /** Human-readable; in cross-field cases it names every field involved. */
  readonly message: string;
  /** The other fields a cross-field issue involves, so an override of any of them takes the blame. */
  readonly related?: readonly string[];
}

/** Percent as printed in messages and flags: 75 → "75", 62.5 → "62.5". */
export function fmtNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4)));
}

export const MIB = 1024 * 1024;

/**
 * The smallest whole number ≥ `estimate − 2` for which `fits` holds: turns a closed-form estimate
 * (which floating point may put one off) into the exact value a suggestion in a message needs.
 */
export function smallestFitting(estimate: number, fits: (n: number) => boolean): number {
  let n = Math.max(1, Math.floor(estimate) - 2);
  while (!fits(n)) n++;
  return n;
}

/** The largest whole percentage in [0, 99] for which `fits` holds, or 0 if none does. */
export function largestPercentFitting(fits: (pct: number) => boolean): number {
  for (let p = 99; p > 0; p--) if (fits(p)) return p;
  return 0;
}

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

/**
 * The smallest whole number n ≥ 1 for which `fits` holds, for a `fits` that stays true once true
 * (more memory never leaves less room). `estimate` is the closed-form answer, used only as a
 * starting bound: with floors in the formulas the true answer can lie below it by up to
 * 1 / (1 − share) (4 MiB at a 75 % heap, 10 at 90 %), so the search brackets it and bisects.
 */
export function smallestFitting(estimate: number, fits: (n: number) => boolean): number {
  let hi = Math.max(1, Math.ceil(estimate));
  while (!fits(hi)) hi *= 2;
  let lo = 1; // the answer lies in [lo, hi]
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The largest whole percentage in [0, 99] for which `fits` holds, or 0 if none does. */
export function largestPercentFitting(fits: (pct: number) => boolean): number {
  for (let p = 99; p > 0; p--) if (fits(p)) return p;
  return 0;
}

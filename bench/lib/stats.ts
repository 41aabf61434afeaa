/**
 * Pure statistics and formatting for the benchmark reports: medians, spreads, ratios.
 * No I/O here, so test/bench/stats.test.ts can cover it without timing anything.
 *
 * Every measurement is repeated and summarised by its median (robust on a shared, noisy
 * machine) plus min, max and the relative spread (max − min) / median, which says how much
 * to trust the median.
 */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median; 0 for a single sample, NaN when the median is 0. */
  readonly spread: number;
}

/** Median of the samples (mean of the middle two for an even count). Throws on no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const finite = samples.filter((s) => Number.isFinite(s));
  if (finite.length === 0) throw new Error("summary of no finite samples");
  const m = median(finite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return { n: finite.length, median: m, min, max, spread: m === 0 ? Number.NaN : (max - min) / m };
}

/**
 * Ratio of two medians, `value / baseline`. For times, > 1 means slower than the baseline;
 * for throughput, > 1 means faster. The caller's column header says which.
 */
export function ratio(value: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : value / baseline;
}

/** "1.00×", "12.3×", "0.42×"; two significant decimals below 10, one above. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return "n/a";
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** "±12%": the relative spread of a summary. */
export function formatSpread(s: Summary): string {
  if (!Number.isFinite(s.spread)) return "n/a";
  return `±${Math.round((s.spread * 100) / 2)}%`;
}

/** Milliseconds as "850 ms" or "12.3 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 100_000 ? 2 : 1)} s`;
}

/** Small durations with decimals: "0.61 ms", "5.2 ms", "123 ms". */
export function formatMsFine(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  return `${ms < 1 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

/** Bytes as "312 MB" (MiB, rounded). */
export function formatMiB(bytes: number): string {
  if (!Number.isFinite(bytes)) return "n/a";
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** Rate as "1,234/s" (three significant digits below 100). */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  const rounded = perSecond < 100 ? Number(perSecond.toPrecision(3)) : Math.round(perSecond);
  return `${rounded.toLocaleString("en-US")}/s`;
}

/**
 * Orders runs so that no variant always goes first: round r is the variant list rotated by r.
 * Interleaving spreads the machine's slow moments over every variant instead of one.
 */
export function interleave<T>(variants: readonly T[], rounds: number): T[][] {
  const out: T[][] = [];
  for (let r = 0; r < rounds; r++) {
    const k = variants.length === 0 ? 0 : r % variants.length;
    out.push([...variants.slice(k), ...variants.slice(0, k)]);
  }
  return out;
}

/** A GitHub-flavoured Markdown table; cells are escaped for `|`. Right-aligns columns flagged in `numeric`. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(" | ")} |`;
  const rule = `|${header.map((_, i) => (numeric[i] ? "---:" : "---")).join("|")}|`;
  for (const row of rows) {
    if (row.length !== header.length) throw new Error(`table row has ${row.length} cells, header has ${header.length}`);
  }
  return [line(header), rule, ...rows.map(line)].join("\n");
}

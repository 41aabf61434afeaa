/**
 * Retention and the throughput profile of a preset (docs/storage.md).
 *
 *   retention:  { completed: 7d, failed: 30d, cancelled: 7d }   how long a final job and its audit
 *               rows are kept after it reached that state; `forever` keeps it (services: 0)
 *   throughput: { jobsPerSecond: 50, failedPercent: 1 }         the sustained rate the preset is
 *               sized for; only the storage sizing reads it
 *
 * Durations are strict: a whole number and one unit of s, m, h, d or w (`90m`, `7d`), or
 * `forever`. A bare number is refused, since `7` could mean seconds or days; a negative or
 * fractional one too.
 */
import { z } from "zod";

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
const DURATION = /^(\d{1,9})(s|m|h|d|w)$/;

/** Seconds of a duration string, 0 for `forever`, or null when it is not one. */
export function durationSeconds(text: string): number | null {
  if (text === "forever") return 0;
  const m = DURATION.exec(text);
  if (!m) return null;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** A duration as written in YAML: checked here, kept as text (explain shows it as written). */
export const DurationSchema = z.unknown().superRefine((v, ctx) => {
  if (typeof v === "number") {
    ctx.addIssue({ code: "custom", message: `a bare number (${v}) has no unit: write e.g. ${Math.abs(v)}d, ${Math.abs(v)}h or ${Math.abs(v)}s, or forever` });
  } else if (typeof v !== "string" || durationSeconds(v) === null) {
    ctx.addIssue({
      code: "custom",
      message: `must be a duration: a whole number with a unit of s, m, h, d or w (e.g. 7d), or forever; got ${JSON.stringify(v)}`,
    });
  }
}) as unknown as z.ZodType<string, string>;

export const RetentionSchema = z.strictObject({
  /** @default "7d" */
  completed: DurationSchema.default("7d"),
  /** @default "30d" */
  failed: DurationSchema.default("30d"),
  /** @default "7d" */
  cancelled: DurationSchema.default("7d"),
  /** How often each worker runs the retention pass. @default "1m" */
  interval: DurationSchema.default("1m"),
  /**
   * Span of one audit partition (job_transitions by job creation time). Audit rows leave one
   * span after the window, so a shorter span at a high rate saves disk; each span is a table.
   * @default "1d"
   */
  partition: DurationSchema.default("1d"),
});

export const ThroughputSchema = z.strictObject({
  /** Sustained submissions per second the preset is sized for. */
  jobsPerSecond: z.number().positive().max(1_000_000),
  /** Share of jobs that end FAILED (kept for retention.failed). @default 1 */
  failedPercent: z.number().min(0).max(100).default(1),
  /** Average bytes of a job's payload plus its result, as stored in JSONB. @default 200 */
  payloadBytes: z.number().int().min(0).max(10_000_000).default(200),
});

export type Retention = z.output<typeof RetentionSchema>;
export type Throughput = z.output<typeof ThroughputSchema>;

export const RETENTION_DEFAULTS: Retention = { completed: "7d", failed: "30d", cancelled: "7d", interval: "1m", partition: "1d" };

/** The retention of a preset in seconds (0 = forever), as the services read it. */
export function retentionSeconds(r: Retention): {
  completed: number;
  failed: number;
  cancelled: number;
  intervalSeconds: number;
  partitionSeconds: number;
} {
  return {
    partitionSeconds: durationSeconds(r.partition)!,
    completed: durationSeconds(r.completed)!,
    failed: durationSeconds(r.failed)!,
    cancelled: durationSeconds(r.cancelled)!,
    intervalSeconds: durationSeconds(r.interval)!,
  };
}

/** A number of seconds as the largest whole unit, for messages: 604800 → "7d". */
export function formatSeconds(s: number): string {
  if (s === 0) return "forever";
  for (const [unit, n] of [["w", 604_800], ["d", 86_400], ["h", 3600], ["m", 60]] as const) {
    if (s % n === 0) return `${s / n}${unit}`;
  }
  return `${s}s`;
}

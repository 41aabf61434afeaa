// Retry delay: exponential in the attempt number, capped, with "equal jitter" — half fixed,
// half random — so retries of jobs that failed together (a dependency outage) spread out
// instead of returning in one burst, while no retry comes back immediately.

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Delay before the attempt after `attempt` (1-based): base·2^(attempt-1), capped, then jittered. */
export function retryDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + random() * (exp / 2));
}

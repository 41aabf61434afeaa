// The cache's RUNNING entry of a claimed job, written only if the job is still claimed a moment
// later. Most jobs of a busy queue finish well within that moment, and their RUNNING entry
// would be overwritten by the outcome's within milliseconds: skipping it saves a Redis write
// per job (a socket write in the worker, a script run in Redis). A status read meanwhile
// answers PENDING from the submission's entry, as it could already while the write was in
// flight; Postgres, which the api reads on a miss, always has the truth.

import type { JobCache } from "../core/cache.js";
import type { Job } from "../core/jobs/types.js";

/**
 * How long a claimed job may go without its RUNNING entry. Short enough that a status poller
 * sees a long job running almost at once, long enough to cover a short job's whole run.
 */
export const RUNNING_ENTRY_DELAY_MS = 100;

export interface RunningEntry {
  /**
   * The job's run is over (outcome known, or handed back): no RUNNING entry is written from now
   * on. Resolves when a write already started has finished (never rejects), so that the
   * outcome's entry is written after it.
   */
  settle(): Promise<unknown>;
}

export function deferRunningEntry(cache: Pick<JobCache, "put">, job: Job, delayMs = RUNNING_ENTRY_DELAY_MS): RunningEntry {
  let written: Promise<unknown> | null = null;
  const timer = setTimeout(() => (written = cache.put(job)), delayMs);
  timer.unref();
  return {
    settle() {
      clearTimeout(timer);
      return written ?? Promise.resolve();
    },
  };
}

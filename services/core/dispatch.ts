// Publishing a committed PENDING job: publish with confirms, then record the dispatch. The
// order matters: a job is committed before it is published, and marked dispatched only after
// the broker confirmed, so a crash or outage anywhere leaves it PENDING and undispatched, which
// is exactly what the sweeper looks for. The mark itself is written in the background
// (JobRepository.markDispatchedSoon): it only spares the sweeper a duplicate publish, so the
// caller (a 202, a retry) need not wait for its commit.

import { coerceError } from "./errors.js";
import type { JobRepository } from "./jobs/repository.js";
import type { Job } from "./jobs/types.js";
import type { JobQueue } from "./queue.js";
import { isPublishRejected } from "./queue-topology.js";

export interface DispatchResult {
  readonly dispatched: boolean;
  /** Why not, when it was not; the sweeper will publish it. */
  readonly error?: Error;
}

/** Never throws: a failed publish is not an error for the caller, only a delay. */
export async function dispatchJob(queue: JobQueue, repo: Pick<JobRepository, "markDispatchedSoon">, job: Pick<Job, "id" | "claim">): Promise<DispatchResult> {
  try {
    await queue.publish(job.id);
  } catch (err) {
    return { dispatched: false, error: coerceError(err) };
  }
  repo.markDispatchedSoon(job.id, job.claim);
  return { dispatched: true };
}

/**
 * The `result` label of jobstack_dispatches_total: ok, rejected (the job queue is full and
 * refused the publish: the job waits in Postgres for the sweeper, docs/storage.md) or error.
 */
export function dispatchResult(r: DispatchResult): "ok" | "rejected" | "error" {
  if (r.dispatched) return "ok";
  return isPublishRejected(r.error) ? "rejected" : "error";
}

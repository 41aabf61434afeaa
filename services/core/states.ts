// The job state machine as data. Pure: no I/O, no clock, safe to import from anywhere
// (repository, worker, API, tests). Every move a job makes is checked against TRANSITIONS.

export const JobState = {
  PENDING: "PENDING",
  RUNNING: "RUNNING",
  COMPLETED: "COMPLETED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export const JOB_STATES: readonly JobState[] = Object.values(JobState);

/**
 * Allowed moves, from → to. Why each exists:
 * - PENDING → RUNNING: a worker claims the job (takes a lease and a new claim number).
 * - PENDING → CANCELLED: a client cancels before any worker picked it up.
 * - RUNNING → COMPLETED | FAILED: the claim holder records the outcome.
 * - RUNNING → PENDING: a retryable failure (with backoff), an expired lease (reaper),
 *   or a draining worker releasing the job.
 * - FAILED → PENDING: only an operator's explicit retry (POST /jobs/:id/retry).
 * COMPLETED and CANCELLED are final; nothing moves a FAILED job on its own.
 */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  PENDING: ["RUNNING", "CANCELLED"],
  RUNNING: ["COMPLETED", "FAILED", "PENDING"],
  COMPLETED: [],
  FAILED: ["PENDING"],
  CANCELLED: [],
};

/** States no transition leaves. FAILED is not one: an operator may retry it. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set<JobState>(["COMPLETED", "CANCELLED"]);

export function isJobState(value: unknown): value is JobState {
  return typeof value === "string" && (JOB_STATES as readonly string[]).includes(value);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The states from which a job may move to `to`, derived from TRANSITIONS (its single source).
 * The repository's one-statement transitions pass this list to SQL as the allowed from-states.
 */
export function sourcesOf(to: JobState): JobState[] {
  return JOB_STATES.filter((from) => canTransition(from, to));
}

/** Why a move is refused, in words an operator can act on; null when it is allowed. */
export function explainTransition(from: JobState, to: JobState): string | null {
  if (canTransition(from, to)) return null;
  if (FINAL_STATES.has(from)) return `${from} is final: a job cannot move from ${from} to ${to}`;
  const allowed = TRANSITIONS[from];
  return `${from} → ${to} is not allowed; from ${from} a job may only move to ${allowed.join(" or ")}`;
}

// Public shapes of the job repository: what the API serialises and the worker acts on.

import type { JobState } from "../states.js";

export interface Job {
  readonly id: string;
  readonly type: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly payload: unknown;
  readonly result: unknown | null;
  readonly error: unknown | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Grows by one with every change; orders cache writes. */
  readonly version: number;
  /** Current claim number (fencing token); 0 until the first claim. */
  readonly claim: number;
  readonly idempotencyKey: string | null;
  /** Worker holding the lease while RUNNING. */
  readonly lockedBy: string | null;
  readonly leaseExpiresAt: string | null;
  /** Not claimable before this instant (retry backoff). */
  readonly runAfter: string;
  /** When the broker confirmed the message for this PENDING spell; null = not yet. */
  readonly dispatchedAt: string | null;
}

export interface Transition {
  readonly seq: number;
  readonly from: JobState | null;
  readonly to: JobState;
  readonly at: string;
  readonly workerId: string | null;
  readonly attempt: number;
  readonly claim: number;
  readonly reason: string | null;
}

export type TransitionOutcome =
  | { readonly ok: true; readonly job: Job }
  | { readonly ok: false; readonly code: "not_found" | "conflict"; readonly state?: JobState; readonly message: string };

export interface SubmitInput {
  readonly type: string;
  readonly payload?: unknown;
  /** @default 3 */
  readonly maxAttempts?: number | undefined;
  readonly idempotencyKey?: string | null | undefined;
  /** Tests and imports may fix the id; normally a fresh UUIDv7. */
  readonly id?: string;
}

export interface SubmitResult {
  readonly job: Job;
  /** false when the idempotency key matched an existing job, which is returned instead. */
  readonly created: boolean;
}

export type ClaimOutcome =
  | { readonly ok: true; readonly job: Job }
  | {
      readonly ok: false;
      /** not_due: PENDING but in retry backoff; the message is dropped and the sweeper redispatches when due. */
      readonly code: "not_found" | "conflict" | "not_due";
      readonly state?: JobState;
      readonly message: string;
    };

/** A lease a worker holds: the job and the claim it was given (its fencing token). */
export interface HeldLease {
  readonly id: string;
  readonly claim: number;
}

export interface FailInput {
  readonly error: unknown;
  /** false: fail now, whatever attempts remain. */
  readonly retryable: boolean;
  /** Delay before the next attempt when one remains. @default 0 */
  readonly retryDelayMs?: number;
}

/** Called after every committed transition (metrics). Must not throw. */
export type TransitionListener = (from: JobState | null, to: JobState, job: Job) => void;

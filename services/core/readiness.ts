/**
 * Is each dependency answering right now? Used by the api's `/readyz` and by
 * `Dependencies.readiness()`.
 *
 * Every check runs in parallel under its own short timeout, so one hung server costs at most
 * `timeoutMs` and cannot hide the state of the others. The answer lists every dependency.
 */
import type { Redis } from "ioredis";
import type pg from "pg";
import { coerceError, withTimeout } from "./errors.js";
import type { JobQueue } from "./queue.js";

export type ReadinessCheck = () => Promise<unknown>;

export interface DependencyState {
  ok: boolean;
  /** Present when `ok` is false: a short reason (timeout, refused), never a stack. */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  dependencies: Record<string, DependencyState>;
}

/** Cheap probes that reject when the dependency is down; `checkReadiness` bounds each with a timeout. */
export function readinessChecks(pool: pg.Pool, redis: Redis, queue: JobQueue): Record<string, ReadinessCheck> {
  return {
    postgres: () => pool.query("select 1"),
    redis: () => redis.ping(),
    rabbitmq: async () => {
      // The queue reconnects in the background; a live session is what publishing needs.
      if (!queue.isConnected()) throw new Error("not connected");
    },
  };
}

/** @default timeoutMs 1000 — a probe period is typically 5-10 s; a check must fit well inside it. */
export async function checkReadiness(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs = 1000,
): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const states = await Promise.all(names.map((name) => runCheck(checks[name]!, timeoutMs)));
  const dependencies: Record<string, DependencyState> = {};
  names.forEach((name, i) => {
    dependencies[name] = states[i]!;
  });
  return { ready: states.every((s) => s.ok), dependencies };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<DependencyState> {
  const running = Promise.resolve().then(check);
  running.catch(() => undefined); // a check that fails after its timeout is already reported
  try {
    await withTimeout(running, timeoutMs, "check");
    return { ok: true };
  } catch (raw) {
    const err = coerceError(raw);
    return { ok: false, error: firstLine(err.message) };
  }
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").slice(0, 200) || "failed";
}

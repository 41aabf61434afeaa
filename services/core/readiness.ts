/**
 * Is each dependency answering right now? Used by the api's `/readyz`, the worker's `/readyz`
 * and `Dependencies.readiness()`.
 *
 * Every check runs in parallel under its own short timeout, so one hung server costs at most
 * `timeoutMs` and cannot hide the state of the others. The answer lists every dependency; only
 * the `required` ones decide readiness (docs/health-probes.md): the api needs Postgres and its
 * schema to answer, and keeps serving through a Redis or RabbitMQ outage (reads from Postgres,
 * submissions swept to the broker later), so those two are reported but do not make it unready.
 */
import type { Redis } from "ioredis";
import type pg from "pg";
import { coerceError, withTimeout } from "./errors.js";
import type { JobQueue } from "./queue.js";
import { checkSchemaVersion, requiredSchemaVersion } from "./schema-version.js";

export type ReadinessCheck = () => Promise<unknown>;

export interface DependencyState {
  ok: boolean;
  /** Present when `ok` is false: a short reason (timeout, refused), never a stack. */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  /** The dependencies that decided `ready`. */
  required: string[];
  dependencies: Record<string, DependencyState>;
}

/** What the api cannot answer without; Redis and RabbitMQ only degrade it. */
export const API_REQUIRED = ["postgres", "schema"] as const;
/** What a worker cannot work without. */
export const WORKER_REQUIRED = ["postgres", "schema", "rabbitmq"] as const;

/** Cheap probes that reject when the dependency is down; `checkReadiness` bounds each with a timeout. */
export function readinessChecks(
  pool: pg.Pool,
  redis: Redis,
  queue: JobQueue,
  schemaVersion: number = requiredSchemaVersion(),
): Record<string, ReadinessCheck> {
  return {
    postgres: () => pool.query("select 1"),
    schema: () => checkSchemaVersion(pool, schemaVersion),
    redis: () => redis.ping(),
    rabbitmq: async () => {
      // The queue reconnects in the background; a complete publisher session (and consumer,
      // once consuming was asked for) is what the process needs.
      if (!queue.isConnected()) throw new Error("not connected");
      if (queue.unavailableSince() !== null) throw new Error("consumer not started");
    },
  };
}

/** @default timeoutMs 1000 — a probe period is typically 5-10 s; a check must fit well inside it. */
export async function checkReadiness(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs = 1000,
  /** The checks that decide readiness; every check is reported. @default all of them */
  required: readonly string[] = Object.keys(checks),
): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const states = await Promise.all(names.map((name) => runCheck(checks[name]!, timeoutMs)));
  const dependencies: Record<string, DependencyState> = {};
  names.forEach((name, i) => {
    dependencies[name] = states[i]!;
  });
  const decisive = required.filter((name) => name in dependencies);
  return { ready: decisive.every((name) => dependencies[name]!.ok), required: decisive, dependencies };
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

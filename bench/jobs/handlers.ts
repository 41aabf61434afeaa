/**
 * The job handlers every system runs in the throughput benchmark: jobstack's own builtins
 * (services/handlers/builtins.ts), so BullMQ and graphile-worker do exactly the same work per job
 * (`noop` returns at once; `hash {rounds}` is `rounds` chained sha256 digests).
 */
import { createHandlerRegistry, silentLogger, type HandlerContext } from "../../services/handlers/index.js";

const registry = createHandlerRegistry();

/** Validates and runs a builtin like jobstack's worker does; throws on an unknown type or bad payload. */
export async function runBuiltin(type: string, payload: unknown, jobId: string, workerId: string): Promise<unknown> {
  const handler = registry.get(type);
  if (!handler) throw new Error(`no handler for ${type}`);
  const checked = registry.validate(type, payload);
  if (!checked.ok) throw new Error(checked.message);
  const ctx: HandlerContext = { jobId, claim: 1, attempt: 1, maxAttempts: 1, workerId, signal: new AbortController().signal, logger: silentLogger };
  return handler.run(checked.payload, ctx);
}

/**
 * The payload of each benchmark workload. `batch` is noop jobs enqueued with each system's bulk
 * call, `batchSize` jobs a call.
 */
export const WORKLOADS = {
  noop: { type: "noop", payload: {} },
  hash: { type: "hash", payload: { rounds: 1000 } },
  batch: { type: "noop", payload: {}, batchSize: 100 },
} as const;

export type WorkloadName = keyof typeof WORKLOADS;

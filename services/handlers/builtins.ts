// The builtin job types, for demos and benchmarks:
//   noop              → returns null
//   sleep {ms}        → waits ms (stops early when the job is aborted)
//   fail {message, retryable} → throws; retryable defaults to false (a permanent failure)
//   hash {rounds, data?} → sha256 applied `rounds` times: real CPU work

import { createHash } from "node:crypto";
import { z } from "zod";
import { HandlerError, HandlerRegistry } from "./registry.js";

const abortable = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });

const sleepPayload = z.object({ ms: z.number().int().min(0).max(3_600_000) });
const failPayload = z.object({ message: z.string().max(10_000).default("requested failure"), retryable: z.boolean().default(false) });
const hashPayload = z.object({ rounds: z.number().int().min(1).max(10_000_000), data: z.string().max(10_000).default("jobstack") });

export function registerBuiltins(registry: HandlerRegistry): HandlerRegistry {
  registry.register("noop", { run: async () => null }, "builtin");
  registry.register("sleep", {
    parse: (p) => sleepPayload.parse(p),
    run: async ({ ms }, ctx) => {
      await abortable(ms, ctx.signal);
      return { sleptMs: ms };
    },
  }, "builtin");
  registry.register("fail", {
    parse: (p) => failPayload.parse(p ?? {}),
    run: async ({ message, retryable }) => {
      throw new HandlerError(message, retryable);
    },
  }, "builtin");
  registry.register("hash", {
    parse: (p) => hashPayload.parse(p),
    run: async ({ rounds, data }, ctx) => {
      let digest = Buffer.from(data);
      for (let i = 0; i < rounds; i++) {
        digest = createHash("sha256").update(digest).digest();
        // Yield every 10k rounds (a few ms): a long hash must not starve the lease-renewal
        // timer and the other jobs of this worker's event loop.
        if (i % 10_000 === 9_999) {
          await new Promise((r) => setImmediate(r));
          if (ctx.signal.aborted) throw ctx.signal.reason;
        }
      }
      return { digest: digest.toString("hex"), rounds };
    },
  }, "builtin");
  return registry;
}

export function createHandlerRegistry(options: { builtins?: boolean } = {}): HandlerRegistry {
  const registry = new HandlerRegistry();
  return options.builtins === false ? registry : registerBuiltins(registry);
}


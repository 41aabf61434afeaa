// Job types are handlers registered by name. The builtins are for demos and benchmarks:
//   noop              → returns null
//   sleep {ms}        → waits ms (stops early when the job is aborted)
//   fail {message, retryable} → throws; retryable defaults to false (a permanent failure)
//   hash {rounds, data?} → sha256 applied `rounds` times: real CPU work
// More types come from modules named in JOB_HANDLER_MODULES (each exports `register`).

import { createHash } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { Logger } from "../core/logger.js";

export interface HandlerContext {
  readonly jobId: string;
  /** The claim number this run holds; pass it along to make side effects idempotent. */
  readonly claim: number;
  /** 1 for the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly workerId: string;
  /** Aborted when the lease is lost or the worker stops; long handlers should honour it. */
  readonly signal: AbortSignal;
  readonly log?: Logger;
}

export interface JobHandler<P = unknown> {
  /** Validates the payload; throw (e.g. a ZodError) to reject it. Used by the API at submit too. */
  readonly parse?: (payload: unknown) => P;
  readonly run: (payload: P, ctx: HandlerContext) => Promise<unknown>;
}

/** Thrown by handlers to say whether another attempt could succeed. Other errors are retryable. */
export class HandlerError extends Error {
  override name = "HandlerError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export type PayloadCheck = { ok: true; payload: unknown } | { ok: false; message: string };

export class HandlerRegistry {
  private readonly handlers = new Map<string, JobHandler<any>>();

  register<P>(type: string, handler: JobHandler<P>): this {
    if (!/^[a-z][a-z0-9_.:-]{0,99}$/.test(type)) throw new Error(`invalid job type name "${type}"`);
    if (this.handlers.has(type)) throw new Error(`a handler for "${type}" is already registered`);
    this.handlers.set(type, handler);
    return this;
  }

  get(type: string): JobHandler<unknown> | undefined {
    return this.handlers.get(type);
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Checks a payload before it is accepted (API) or run (worker). */
  validate(type: string, payload: unknown): PayloadCheck {
    const handler = this.handlers.get(type);
    if (!handler) return { ok: false, message: `no handler is registered for job type "${type}" (known: ${this.types().join(", ")})` };
    if (!handler.parse) return { ok: true, payload };
    try {
      return { ok: true, payload: handler.parse(payload) };
    } catch (err) {
      return { ok: false, message: err instanceof z.ZodError ? z.prettifyError(err) : String((err as Error)?.message ?? err) };
    }
  }
}

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
  registry.register("noop", { run: async () => null });
  registry.register("sleep", {
    parse: (p) => sleepPayload.parse(p),
    run: async ({ ms }, ctx) => {
      await abortable(ms, ctx.signal);
      return { sleptMs: ms };
    },
  });
  registry.register("fail", {
    parse: (p) => failPayload.parse(p ?? {}),
    run: async ({ message, retryable }) => {
      throw new HandlerError(message, retryable);
    },
  });
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
  });
  return registry;
}

export function createHandlerRegistry(options: { builtins?: boolean } = {}): HandlerRegistry {
  const registry = new HandlerRegistry();
  return options.builtins === false ? registry : registerBuiltins(registry);
}

/** What a handler module's `register` receives besides the registry. */
export interface HandlerModuleContext {
  readonly databaseUrl: string;
  readonly workerId: string;
}

/**
 * Imports each module and calls its `register(registry, context)`. Paths starting with "." or
 * "/" are resolved from the working directory; anything else is a package specifier.
 */
export async function loadHandlerModules(registry: HandlerRegistry, specifiers: readonly string[], context: HandlerModuleContext): Promise<void> {
  for (const spec of specifiers) {
    const target = spec.startsWith(".") || path.isAbsolute(spec) ? pathToFileURL(path.resolve(spec)).href : spec;
    const mod = (await import(target)) as { register?: (r: HandlerRegistry, c: HandlerModuleContext) => unknown };
    if (typeof mod.register !== "function") throw new Error(`handler module ${spec} does not export register(registry)`);
    await mod.register(registry, context);
  }
}

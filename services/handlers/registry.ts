// The handler registry: job types by name, each with a payload check and a run function. Both
// the api (names and payload checks at submit; it never runs a handler) and the worker build one
// from the same modules, so POST /jobs accepts exactly what the workers can run.
// The public surface for handler authors is services/handlers/index.ts (`jobstack/worker`).

import { pino } from "pino";
import { z } from "zod";
import type { Logger } from "../core/logger.js";

/** What a handler may log with: pino's methods, bound to the job id and claim. */
export type HandlerLogger = Pick<Logger, "trace" | "debug" | "info" | "warn" | "error" | "fatal">;

/** A logger that drops everything: for running a handler outside a worker (tests, benchmarks). */
export const silentLogger: HandlerLogger = pino({ level: "silent" });

export interface HandlerContext {
  readonly jobId: string;
  /**
   * The claim number this run holds: grows by one each time the job is claimed. It is the
   * fencing token: store it beside a side effect, and refuse a write carrying a smaller one.
   */
  readonly claim: number;
  /** 1 for the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly workerId: string;
  /** Aborted when the lease is lost or the worker stops; long handlers should honour it. */
  readonly signal: AbortSignal;
  readonly logger: HandlerLogger;
  /** @deprecated the same as `logger` (the name modules written for `register(registry)` used). */
  readonly log?: HandlerLogger;
}

export interface JobHandler<P = unknown> {
  /** Validates the payload; throw (e.g. a ZodError) to reject it. Used by the API at submit too. */
  readonly parse?: (payload: unknown) => P;
  readonly run: (payload: P, ctx: HandlerContext) => Promise<unknown> | unknown;
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

/** One reason a payload was refused, by the field it concerns (`payload.amountCents`). */
export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * The answer of HandlerRegistry.validate. `reason` tells an unknown type (no handler here; the
 * api answers `unknown_job_type`) from a payload its handler refuses.
 */
export type PayloadCheck =
  | { ok: true; payload: unknown }
  | { ok: false; reason: "unknown_type" | "invalid_payload"; message: string; issues: readonly PayloadIssue[] };

/** Where job type names come from: `builtin` or the module specifier that registered it. */
export type HandlerOrigin = string;

export const JOB_TYPE_PATTERN = /^[a-z][a-z0-9_.:-]{0,99}$/;

export class HandlerRegistry {
  private readonly handlers = new Map<string, { handler: JobHandler<any>; origin: HandlerOrigin }>();
  /** Set by the module loader while a module registers, so a clash names both modules. */
  private origin: HandlerOrigin = "code";

  /** Adds a job type; `origin` names who registered it in a clash (the loader sets the module). */
  register<P>(type: string, handler: JobHandler<P>, origin: HandlerOrigin = this.origin): this {
    if (!JOB_TYPE_PATTERN.test(type)) {
      throw new Error(`invalid job type name "${type}": use lowercase letters, digits and _ . : - (starting with a letter, at most 100)`);
    }
    const known = this.handlers.get(type);
    if (known) throw new Error(`job type "${type}" is already registered (by ${known.origin})`);
    if (typeof handler?.run !== "function") throw new Error(`job type "${type}": the handler has no run function`);
    this.handlers.set(type, { handler, origin });
    return this;
  }

  /** Runs `fn` with registrations attributed to `origin` (the loader names each module). */
  async registeringAs<T>(origin: HandlerOrigin, fn: () => Promise<T> | T): Promise<T> {
    const before = this.origin;
    this.origin = origin;
    try {
      return await fn();
    } finally {
      this.origin = before;
    }
  }

  get(type: string): JobHandler<unknown> | undefined {
    return this.handlers.get(type)?.handler;
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Which module registered a type (`builtin` for the builtins). */
  originOf(type: string): HandlerOrigin | undefined {
    return this.handlers.get(type)?.origin;
  }

  /**
   * Checks a job type and its payload before the job is accepted (api: POST /jobs and each item
   * of POST /jobs/batch) or run (worker). The one check and the one message, so a bad payload
   * reads the same wherever it is caught: each issue names the field (`payload.amountCents`).
   */
  validate(type: string, payload: unknown): PayloadCheck {
    const entry = this.handlers.get(type);
    if (!entry) {
      const message = `no handler is registered for job type "${type}" (known: ${this.types().join(", ")})`;
      return { ok: false, reason: "unknown_type", message, issues: [{ path: "type", message }] };
    }
    if (!entry.handler.parse) return { ok: true, payload };
    try {
      return { ok: true, payload: entry.handler.parse(payload) };
    } catch (err) {
      const issues = payloadIssues(err);
      return { ok: false, reason: "invalid_payload", message: invalidPayloadMessage(type, issues), issues };
    }
  }
}

/** `invalid payload for job type "x": payload.a: …; payload.b: …` — the API's 400 and the worker's failure. */
export function invalidPayloadMessage(type: string, issues: readonly PayloadIssue[]): string {
  return `invalid payload for job type "${type}": ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
}

function payloadIssues(err: unknown): PayloadIssue[] {
  const zodLike = err as { issues?: { path?: readonly PropertyKey[]; message?: string }[] } | null;
  if (err instanceof z.ZodError || (zodLike && Array.isArray(zodLike.issues))) {
    const list = (zodLike!.issues ?? []).map((i) => ({
      path: ["payload", ...(i.path ?? []).map(String)].join("."),
      message: String(i.message ?? "invalid"),
    }));
    if (list.length > 0) return list;
  }
  return [{ path: "payload", message: err instanceof Error ? err.message : String(err) }];
}

// `defineHandler`: the declarative way to write a job type. A module exports what it returns
// (default export, or named exports), and the loader registers it; no registry in sight.
//
//   import { defineHandler, HandlerError, z } from "jobstack/worker";
//   export default defineHandler({
//     payload: z.object({ to: z.string().email() }),
//     async run({ to }, ctx) { … },
//   });

import type { HandlerContext, JobHandler } from "./registry.js";

/** The part of a zod schema the registry uses (zod 3 and 4 both fit). */
export interface PayloadSchema<P> {
  safeParse(input: unknown): { success: true; data: P } | { success: false; error: unknown };
}

export interface HandlerDefinitionInput<P> {
  /**
   * The job type's name, e.g. `send-invoice`.
   * @default the file name without extension, for a module's default export
   */
  readonly type?: string;
  /** Validates the payload at submit (the api answers 400 naming the field) and before each run. */
  readonly payload: PayloadSchema<P>;
  /** Does the work; throw `HandlerError(message, retryable)` to steer retries. The result is stored as JSON. */
  run(payload: P, ctx: HandlerContext): Promise<unknown> | unknown;
}

const DEFINITION = Symbol.for("jobstack.handler-definition");

export interface HandlerDefinition<P = unknown> extends JobHandler<P> {
  readonly [DEFINITION]: true;
  readonly type: string | undefined;
}

export function defineHandler<P>(input: HandlerDefinitionInput<P>): HandlerDefinition<P> {
  if (!input || typeof input.run !== "function") throw new TypeError("defineHandler: `run(payload, ctx)` is required");
  if (!input.payload || typeof input.payload.safeParse !== "function") {
    throw new TypeError("defineHandler: `payload` must be a zod schema (use z.object({}) for none)");
  }
  const schema = input.payload;
  return {
    [DEFINITION]: true,
    type: input.type,
    parse: (payload: unknown) => {
      const r = schema.safeParse(payload);
      if (!r.success) throw r.error;
      return r.data;
    },
    run: (payload, ctx) => input.run(payload, ctx),
  };
}

export function isHandlerDefinition(value: unknown): value is HandlerDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true;
}

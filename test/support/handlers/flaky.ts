/**
 * TEST/DEMO ONLY. A handler type `flaky` that fails permanently on a job's first claim and
 * completes on any later one, so an operator's retry visibly succeeds (the dashboard test).
 * Loaded by workers through JOB_HANDLER_MODULES; the api registers the same `flakyHandler`.
 */
import { HandlerError, type HandlerRegistry, type JobHandler } from "../../../services/handlers/index.js";

export const flakyHandler: JobHandler = {
  run: async (_payload, ctx) => {
    if (ctx.claim === 1) throw new HandlerError("upstream said no (first attempt always fails)", false);
    return { claim: ctx.claim, ok: true };
  },
};

export function register(registry: HandlerRegistry): void {
  registry.register("flaky", flakyHandler);
}

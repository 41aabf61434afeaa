/**
 * TEST ONLY. A handler type `echo` whose result is its payload, so a test can see a payload
 * come back through the api exactly as it was submitted (GET /jobs/:id shows the result, not
 * the payload). Loaded by the api and the workers through JOB_HANDLER_MODULES.
 */
import type { HandlerRegistry } from "../../../services/handlers/index.js";

export function register(registry: HandlerRegistry): void {
  registry.register("echo", { run: async (payload) => payload });
}

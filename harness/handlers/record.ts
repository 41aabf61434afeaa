/**
 * TEST/DEMO ONLY. A handler type `record` that writes one row per execution into
 * `handler_runs` (created by harness/jobstack.ts), so tests can count how often a job's
 * handler really ran. Loaded by workers through JOB_HANDLER_MODULES.
 * Payload: { sleepMs?: number, sleepOnClaim?: number } — sleep after recording, only on that
 * claim number when given (so a killed first run is slow and the takeover is quick).
 */
import pg from "pg";
import type { HandlerModuleContext, HandlerRegistry } from "../../services/handlers/index.js";

export function register(registry: HandlerRegistry, ctx: HandlerModuleContext): void {
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  pool.on("error", () => {});
  registry.register("record", {
    run: async (payload, c) => {
      await pool.query("insert into handler_runs (job_id, claim, worker_id) values ($1::uuid, $2::bigint, $3::text)", [c.jobId, c.claim, c.workerId]);
      const p = (payload ?? {}) as { sleepMs?: number; sleepOnClaim?: number };
      if (p.sleepMs && (p.sleepOnClaim === undefined || p.sleepOnClaim === c.claim)) {
        await new Promise((r) => setTimeout(r, p.sleepMs));
      }
      return { claim: c.claim };
    },
  });
}

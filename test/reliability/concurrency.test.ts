/**
 * 4 worker processes, 2,000 jobs, every message published twice. Nothing crashes here, so each
 * job must have exactly one → COMPLETED audit row and its handler must have run exactly once
 * (the `record` test handler writes one handler_runs row per execution).
 */
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../services/core/uuid.js";
import { useJobSystem } from "../support/job-system-fixture.js";
import { eventually, spawnWorker, workerEnv, type WorkerProcess } from "../../harness/jobstack.js";

const JOBS = 2_000;
const fx = useJobSystem({ dbPoolSize: 4 });

describe("4 worker processes, 2,000 jobs, every message twice", () => {
  it("records exactly one completion and runs each handler exactly once", { timeout: 240_000 }, async () => {
    const t0 = Date.now();
    // Bulk-insert the jobs (with their creation audit rows) in two statements: submission is not
    // what this test is about, and 2,000 submit transactions would dominate its run time.
    const ids = Array.from({ length: JOBS }, () => uuidv7());
    await fx.pool.query("insert into jobs (id, type, state, payload, max_attempts, dispatched_at) select unnest($1::uuid[]), 'record', 'PENDING', '{}'::jsonb, 3, now()", [ids]);
    await fx.pool.query("insert into job_transitions (job_id, to_state, attempt, claim, reason) select unnest($1::uuid[]), 'PENDING', 0, 0, 'submitted'", [ids]);
    const workers: WorkerProcess[] = [1, 2, 3, 4].map((n) =>
      spawnWorker(workerEnv(fx.db, fx.queueName, { WORKER_ID: `conc-${n}`, WORKER_CONCURRENCY: "6", DB_POOL_SIZE: "6", LEASE_MS: "10000", SWEEP_AFTER_MS: "60000" })),
    );
    for (let i = 0; i < ids.length; i += 200) {
      const slice = ids.slice(i, i + 200);
      await Promise.all(slice.flatMap((id) => [fx.queue.publish(id), fx.queue.publish(id)]));
    }
    await eventually(
      "all jobs completed",
      async () => {
        const { rows } = await fx.pool.query("select count(*)::integer as n from jobs where state = 'COMPLETED'");
        return rows[0].n === JOBS;
      },
      120_000,
      250,
    ).catch(async (err: Error) => {
      const states = await fx.pool.query("select state, count(*)::integer as n from jobs group by state");
      throw new Error(`${err.message}; states ${JSON.stringify(states.rows)}\n${workers.map((w) => w.output().slice(-3000)).join("\n")}`);
    });
    console.log(`all completed after ${Date.now() - t0} ms`);
    const completions = await fx.pool.query(
      "select job_id, count(*)::integer as n from job_transitions where to_state = 'COMPLETED' group by job_id having count(*) <> 1",
    );
    expect(completions.rows).toEqual([]);
    const total = await fx.pool.query("select count(*)::integer as n from job_transitions where to_state = 'COMPLETED'");
    expect(total.rows[0].n).toBe(JOBS);
    const runs = await fx.pool.query("select count(*)::integer as n, count(distinct job_id)::integer as jobs from handler_runs");
    expect(runs.rows[0]).toEqual({ n: JOBS, jobs: JOBS });
    // Every process did part of the work.
    const byWorker = await fx.pool.query("select worker_id, count(*)::integer as n from handler_runs group by worker_id order by worker_id");
    expect(byWorker.rows.map((r) => r.worker_id)).toEqual(["conc-1", "conc-2", "conc-3", "conc-4"]);
    // Duplicates were acked and dropped: nothing is left in the fx.queue.
    await eventually("fx.queue empty", async () => (await fx.queue.depth()).ready === 0);

    for (const w of workers) w.kill("SIGTERM");
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.output()).join("\n")).toEqual([0, 0, 0, 0]);
  });
});

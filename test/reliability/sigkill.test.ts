/**
 * A worker SIGKILLed mid-job: once its lease expires another worker's reaper returns the job to
 * PENDING, takes it over under a new claim and completes it once. The dead worker's late
 * completion (simulated with its old claim number) is refused by the fencing check.
 */
import { describe, expect, it } from "vitest";
import { dispatchJob } from "../../services/core/dispatch.js";
import { eventually, spawnWorker, workerEnv } from "../../harness/jobstack.js";
import { useJobSystem } from "../support/job-system-fixture.js";

const fx = useJobSystem();

describe("a worker killed with SIGKILL mid-job", () => {
  it("loses the job to another worker after its lease expires, and its late completion is fenced off", async () => {
    const env = { LEASE_MS: "1500", REAPER_INTERVAL_MS: "200" };
    const a = spawnWorker(workerEnv(fx.db, fx.queueName, { ...env, WORKER_ID: "worker-a" }));
    const { job } = await fx.repo.submit({ type: "record", payload: { sleepMs: 60_000, sleepOnClaim: 1 }, maxAttempts: 3 });
    expect((await dispatchJob(fx.queue, fx.repo, job)).dispatched).toBe(true);

    await eventually("worker A running the job", async () => {
      const { rows } = await fx.pool.query("select worker_id from handler_runs where job_id = $1::uuid", [job.id]);
      return rows[0]?.worker_id === "worker-a";
    }, 60_000);
    a.kill("SIGKILL");
    expect(await a.exited).toBe("SIGKILL");

    const b = spawnWorker(workerEnv(fx.db, fx.queueName, { ...env, WORKER_ID: "worker-b" }));
    const done = await eventually("takeover completes", async () => {
      const j = await fx.repo.get(job.id);
      return j?.state === "COMPLETED" ? j : null;
    }, 60_000);
    expect(done).toMatchObject({ claim: 2, attempts: 2, result: { claim: 2 } });

    const log = await fx.repo.transitions(job.id);
    expect(log.map((t) => `${t.from}>${t.to} claim=${t.claim} by=${t.workerId}`)).toEqual([
      "null>PENDING claim=0 by=null",
      "PENDING>RUNNING claim=1 by=worker-a",
      "RUNNING>PENDING claim=1 by=worker-b",
      "PENDING>RUNNING claim=2 by=worker-b",
      "RUNNING>COMPLETED claim=2 by=worker-b",
    ]);
    expect(log[2]!.reason).toMatch(/lease expired \(claim 1 held by worker-a\)/);
    const runs = await fx.pool.query("select claim::integer, worker_id from handler_runs where job_id = $1::uuid order by id", [job.id]);
    expect(runs.rows).toEqual([
      { claim: 1, worker_id: "worker-a" },
      { claim: 2, worker_id: "worker-b" },
    ]);

    // The dead worker "wakes up" and reports its result with the claim it held.
    const late = await fx.repo.complete(job.id, 1, "worker-a", { late: true });
    expect(late).toMatchObject({ ok: false, code: "conflict", state: "COMPLETED" });
    const lateFail = await fx.repo.fail(job.id, 1, "worker-a", { error: "late", retryable: true });
    expect(lateFail.ok).toBe(false);
    expect(await fx.repo.renewLease(job.id, 1, 1000)).toBe(false);
    expect(await fx.repo.get(job.id)).toMatchObject({ state: "COMPLETED", result: { claim: 2 } });
    expect((await fx.repo.transitions(job.id)).filter((t) => t.to === "COMPLETED")).toHaveLength(1);

    b.kill("SIGTERM");
    expect(await b.exited).toBe(0);
  });
});

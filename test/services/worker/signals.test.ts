/**
 * The worker process: /healthz on HEALTH_PORT, a first SIGTERM drains (the in-flight job
 * finishes, exit 0), a second signal exits at once (130).
 */
import { describe, expect, it } from "vitest";
import { dispatchJob } from "../../../services/core/dispatch.js";
import { eventually, spawnWorker, workerEnv } from "../../../harness/jobstack.js";
import { spareport } from "../../../harness/ports.js";
import { useJobSystem } from "../../support/job-system-fixture.js";

const fx = useJobSystem();

async function runningJob(payload: unknown) {
  const { job } = await fx.repo.submit({ type: "sleep", payload });
  await dispatchJob(fx.queue, fx.repo, job);
  await eventually("job running", async () => (await fx.repo.get(job.id))?.state === "RUNNING", 60_000);
  return job;
}

describe("worker process signals", () => {
  it("serves /healthz and drains on the first SIGTERM: the in-flight job completes, exit 0", async () => {
    const port = await spareport();
    const w = spawnWorker(workerEnv(fx.db, fx.queueName, { HEALTH_PORT: String(port), SHUTDOWN_TIMEOUT_MS: "30000" }));
    const health = await eventually("healthz", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.status === 200 ? ((await res.json()) as { status: string }) : null;
    }, 60_000);
    expect(health.status).toBe("ok");
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/jobstack_job_transitions_total/);

    const job = await runningJob({ ms: 1_500 });
    w.kill("SIGTERM");
    expect(await w.exited, w.output()).toBe(0);
    expect((await fx.repo.get(job.id))?.state).toBe("COMPLETED");
  });

  it("exits 0 on a SIGTERM while it is still starting (here: waiting for an unreachable RabbitMQ)", async () => {
    const closed = await spareport(); // nothing listens there: the start waits for the broker
    const w = spawnWorker(workerEnv(fx.db, fx.queueName, { AMQP_URL: `amqp://guest:guest@127.0.0.1:${closed}`, LOG_LEVEL: "info" }));
    await eventually("the worker is starting", async () => w.output().includes("starting worker"), 60_000);
    w.kill("SIGTERM");
    expect(await w.exited, w.output()).toBe(0);
    expect(w.output()).toContain("stopped before start-up finished");
    expect(w.output()).not.toContain("worker started");
  });

  it("exits at once on a second signal", async () => {
    const w = spawnWorker(workerEnv(fx.db, fx.queueName, { SHUTDOWN_TIMEOUT_MS: "60000" }));
    const job = await runningJob({ ms: 60_000 });
    w.kill("SIGTERM");
    w.kill("SIGINT");
    expect(await w.exited).toBe(130);
    // Nobody released it: the lease runs out and a reaper takes it back (see test/reliability).
    expect((await fx.repo.get(job.id))?.state).toBe("RUNNING");
  });
});

/**
 * Rolling deploys: the api (or a newer worker) knows a job type that an older worker does not.
 * The older worker hands such a job back (PENDING, attempt given back, due again after
 * UNKNOWN_TYPE_RETRY_MS) until a worker that has the handler takes it; past
 * UNKNOWN_TYPE_FAIL_AFTER_MS since submission it fails the job, saying why. And a bad payload
 * that reaches a worker without passing the api fails with the api's 400 text.
 * Real api and worker processes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { dispatchJob } from "../../../services/core/dispatch.js";
import { spawnApi, type ApiProcess } from "../../support/api-process.js";
import { eventually, spawnWorker, workerEnv, type WorkerProcess } from "../../../harness/jobstack.js";
import { useJobSystem } from "../../support/job-system-fixture.js";

const fx = useJobSystem();
const GREET = "./test/fixtures/handler-modules/greet.ts";

let api: ApiProcess | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function stop(w: WorkerProcess): Promise<void> {
  w.kill("SIGTERM");
  expect(await w.exited, w.output()).toBe(0);
}

describe("a job whose type a worker does not know", () => {
  it("waits, without using up attempts, until a worker with the handler takes it", async () => {
    api = await spawnApi(fx.db, fx.queueName, { JOB_HANDLER_MODULES: GREET });
    const old = spawnWorker(workerEnv(fx.db, fx.queueName, { JOB_HANDLER_MODULES: "", WORKER_ID: "old", UNKNOWN_TYPE_RETRY_MS: "300" }));
    const res = await api.submit({ type: "greet", payload: { name: "Ada" }, maxAttempts: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id: string = res.body.id;

    // Handed back more often than it has attempts: none is used up.
    await eventually("handed back three times", async () => (await fx.repo.transitions(id)).filter((t) => t.reason?.includes("handed back")).length >= 3, 60_000);
    const waiting = await fx.repo.transitions(id);
    const handBack = waiting.find((t) => t.reason?.includes("handed back"))!;
    expect(handBack).toMatchObject({ from: "RUNNING", to: "PENDING", workerId: "old", attempt: 0 });
    expect(handBack.reason).toMatch(/^no handler for job type "greet" on this worker \(it knows: fail, hash, noop, sleep\); handed back, due again in 300 ms$/);
    expect((await fx.repo.get(id))!.state).not.toBe("FAILED");

    const upgraded = spawnWorker(workerEnv(fx.db, fx.queueName, { JOB_HANDLER_MODULES: GREET, WORKER_ID: "new" }));
    const done = await eventually("completed by the new worker", async () => {
      const j = await fx.repo.get(id);
      return j?.state === "COMPLETED" ? j : null;
    }, 60_000);
    expect(done).toMatchObject({ attempts: 1, result: { greeting: "hello, Ada" }, lockedBy: null });
    const log = await fx.repo.transitions(id);
    expect(log.at(-1)).toMatchObject({ from: "RUNNING", to: "COMPLETED", workerId: "new" });
    await Promise.all([stop(old), stop(upgraded)]);
  });

  it("fails with the reason once it has waited UNKNOWN_TYPE_FAIL_AFTER_MS since submission", async () => {
    api = await spawnApi(fx.db, fx.queueName, { JOB_HANDLER_MODULES: GREET });
    const old = spawnWorker(
      workerEnv(fx.db, fx.queueName, { JOB_HANDLER_MODULES: "", WORKER_ID: "old", UNKNOWN_TYPE_RETRY_MS: "200", UNKNOWN_TYPE_FAIL_AFTER_MS: "1500" }),
    );
    const res = await api.submit({ type: "greet", payload: { name: "Grace" } });
    const id: string = res.body.id;
    const failed = await eventually("failed", async () => {
      const j = await fx.repo.get(id);
      return j?.state === "FAILED" ? j : null;
    }, 60_000);
    expect(failed.attempts).toBe(1);
    expect((failed.error as { message: string }).message).toMatch(
      /^no worker has a handler for job type "greet": still unknown \d+ s after submission \(UNKNOWN_TYPE_FAIL_AFTER_MS 1500\); this worker knows: fail, hash, noop, sleep$/,
    );
    expect((await fx.repo.transitions(id)).at(-1)!.reason).toMatch(/^permanent failure: no worker has a handler for job type "greet"/);
    await stop(old);
  });
});

describe("a bad payload that reaches a worker without the api", () => {
  it("fails permanently with the same text the api answers 400 with", async () => {
    api = await spawnApi(fx.db, fx.queueName, { JOB_HANDLER_MODULES: GREET });
    const refused = await api.submit({ type: "greet", payload: { name: "" } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ path: "payload.name" })]);

    const w = spawnWorker(workerEnv(fx.db, fx.queueName, { JOB_HANDLER_MODULES: GREET, WORKER_ID: "w" }));
    const { job } = await fx.repo.submit({ type: "greet", payload: { name: "" }, maxAttempts: 3 });
    expect((await dispatchJob(fx.queue, fx.repo, job)).dispatched).toBe(true);
    const failed = await eventually("failed", async () => {
      const j = await fx.repo.get(job.id);
      return j?.state === "FAILED" ? j : null;
    }, 60_000);
    expect(failed.attempts).toBe(1); // permanent: not retried
    expect(failed.error).toMatchObject({ name: "HandlerError", message: refused.body.error.message });
    await stop(w);
  });
});

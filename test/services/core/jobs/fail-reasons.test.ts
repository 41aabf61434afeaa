// What a failure and a reaped lease write (services/core/jobs/operations/fail.ts through
// JobRepository): the audit reason word for word, the error kept, when the job is due again and
// whether its dispatch mark is cleared. On the real Postgres.
import { describe, expect, it } from "vitest";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import type { Job } from "../../../../services/core/jobs/types.js";
import { repositoryFixture } from "./repository-fixture.js";

const fx = repositoryFixture();

async function running(maxAttempts: number): Promise<Job> {
  const { job } = await fx.repo.submit({ type: "noop", maxAttempts });
  expect(await fx.repo.markDispatched(job.id)).toBe(true);
  const claimed = await fx.repo.claim(job.id, "w1", 60_000);
  if (!claimed.ok) throw new Error(claimed.message);
  return claimed.job;
}

const lastReason = async (id: string) => (await fx.repo.transitions(id)).at(-1)!.reason;
const row = async (id: string) => (await fx.pool.query("select dispatched_at, run_after - now() as wait, error from jobs where id = $1::uuid", [id])).rows[0];

describe("fail", () => {
  it("retries with the delay, clears the dispatch mark and says which attempt failed", async () => {
    const job = await running(3);
    const out = await fx.repo.fail(job.id, job.claim, "w1", { error: new Error("boom"), retryable: true, retryDelayMs: 60_000.4 });
    if (!out.ok) throw new Error(out.message);
    expect(out.job).toMatchObject({ state: "PENDING", dispatchedAt: null, error: { name: "Error", message: "boom" } });
    expect(await lastReason(job.id)).toBe("attempt 1 of 3 failed, retry in 60000 ms: boom");
    const r = await row(job.id);
    expect(r.dispatched_at).toBeNull();
    expect(r.wait.minutes ?? 0).toBe(0);
    expect(r.wait.seconds).toBeGreaterThanOrEqual(58);
  });

  it("fails on the last attempt, and at once when not retryable, keeping the dispatch mark", async () => {
    const last = await running(1);
    const out = await fx.repo.fail(last.id, last.claim, "w1", { error: "no more", retryable: true });
    if (!out.ok) throw new Error(out.message);
    expect(out.job).toMatchObject({ state: "FAILED", error: { message: "no more" } });
    expect(out.job.dispatchedAt).not.toBeNull();
    expect(await lastReason(last.id)).toBe("attempt 1 of 1 failed, none left: no more");

    const permanent = await running(5);
    const refused = await fx.repo.fail(permanent.id, permanent.claim, "w1", { error: new RangeError("bad"), retryable: false });
    if (!refused.ok) throw new Error(refused.message);
    expect(refused.job).toMatchObject({ state: "FAILED", error: { name: "RangeError", message: "bad" } });
    expect(await lastReason(permanent.id)).toBe("permanent failure: bad");
  });
});

describe("reapExpired", () => {
  it("puts an expired lease back to PENDING, due now, or fails it on the last attempt", async () => {
    const again = await running(2);
    const last = await running(1);
    await fx.pool.query("update jobs set lease_expires_at = now() - interval '1 second' where id = any($1::uuid[])", [[again.id, last.id]]);
    const reaped = await fx.repo.reapExpired("reaper");
    expect(reaped.map((j) => j.id).sort()).toEqual([again.id, last.id].sort());
    const a = (await fx.repo.get(again.id))!;
    expect(a).toMatchObject({ state: "PENDING", dispatchedAt: null, error: null });
    expect(await lastReason(again.id)).toBe(`lease expired (claim ${again.claim} held by w1)`);
    expect((await row(again.id)).wait.seconds ?? 0).toBeLessThanOrEqual(0);
    const l = (await fx.repo.get(last.id))!;
    expect(l).toMatchObject({ state: "FAILED", error: { message: "lease expired: the worker stopped renewing it" } });
    expect(l.dispatchedAt).not.toBeNull();
    expect(await lastReason(last.id)).toBe(`lease expired (claim ${last.claim} held by w1) on the last of 1 attempts`);
  });
});

// JobRepository.renewLeases (operations/lease.ts): every lease a worker holds, renewed by one
// statement; only a RUNNING job under the same claim is renewed and answered as held.
import { describe, expect, it } from "vitest";
import type { Job } from "../../../../services/core/jobs/types.js";
import { uuidv7 } from "../../../../services/core/uuid.js";
import { repositoryFixture } from "./repository-fixture.js";

const fx = repositoryFixture({ poolSize: 4 });

/** A RUNNING job, claimed by w1 with a short lease. */
async function running(leaseMs = 1_000): Promise<Job> {
  const { job } = await fx.repo.submit({ type: "noop" });
  const claimed = await fx.repo.claim(job.id, "w1", leaseMs);
  if (!claimed.ok) throw new Error(claimed.message);
  return claimed.job;
}

/** The rows as stored, by id. */
async function rows(ids: readonly string[]) {
  const { rows } = await fx.pool.query<{ id: string; lease_expires_at: Date | null }>("select * from jobs where id = any($1::uuid[])", [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** How far the job's lease reaches past the database's now(). */
async function leaseLeftMs(id: string): Promise<number> {
  const { rows } = await fx.pool.query<{ ms: number }>("select (extract(epoch from lease_expires_at - now()) * 1000)::integer as ms from jobs where id = $1::uuid", [id]);
  return rows[0]!.ms;
}

describe("JobRepository.renewLeases", () => {
  it("extends the leases still held, in one statement, and answers exactly their ids", async () => {
    const held = await Promise.all(Array.from({ length: 300 }, () => running()));
    // Claim moved on: failed, then claimed again (claim 2); the lease passed is claim 1's.
    const stale = await running();
    const back = await fx.repo.fail(stale.id, stale.claim, "w1", { error: "flaky", retryable: true });
    expect(back.ok).toBe(true);
    expect(await fx.repo.claim(stale.id, "w2", 1_000)).toMatchObject({ ok: true, job: { claim: 2 } });
    // No longer RUNNING, under the claim passed.
    const finished = await running();
    expect((await fx.repo.complete(finished.id, finished.claim, "w1", null)).ok).toBe(true);
    const released = await running();
    expect((await fx.repo.release(released.id, released.claim, "w1")).ok).toBe(true);
    const missing = { id: uuidv7(), claim: 1 };

    const others = [stale, finished, released];
    const before = await rows(others.map((j) => j.id));
    const answer = await fx.repo.renewLeases([...held, stale, finished, released, missing].map((j) => ({ id: j.id, claim: j.claim })), 60_000);

    expect(answer).toEqual(new Set(held.map((j) => j.id)));
    const after = await rows(held.map((j) => j.id));
    // One statement: every lease got the same now() + 60 s.
    expect(new Set([...after.values()].map((r) => r.lease_expires_at!.getTime())).size).toBe(1);
    expect(await leaseLeftMs(held[0]!.id)).toBeGreaterThan(50_000);
    // The others are untouched, claim 2's lease too; a renewal is no transition (nothing audited).
    expect(await rows(others.map((j) => j.id))).toEqual(before);
    expect(await fx.repo.transitions(held[0]!.id)).toHaveLength(2);
  });

  it("answers the ids as they were given, and nothing for no leases", async () => {
    const job = await running();
    const upper = job.id.toUpperCase();
    expect(await fx.repo.renewLeases([{ id: upper, claim: job.claim }], 60_000)).toEqual(new Set([upper]));
    expect(await fx.repo.renewLeases([], 60_000)).toEqual(new Set());
  });
});

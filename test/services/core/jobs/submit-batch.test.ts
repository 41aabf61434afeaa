// Submitting many jobs (services/core/jobs/operations/submit.ts through JobRepository): each item
// keeps its own type, payload, attempts and key, in request order, with its audit row; a key
// repeated answers the first job; a key reused for a different request stores nothing. On the
// real Postgres.
import { describe, expect, it } from "vitest";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import { repositoryFixture } from "./repository-fixture.js";

const fx = repositoryFixture({ poolSize: 3 });

const key = (s: string) => `${s}-${fx.db.name}`;

describe("submitBatch", () => {
  it("stores every item with its own fields, in request order, each audited as submitted", async () => {
    const out = await fx.repo.submitBatch([
      { type: "a", payload: { n: 1 }, maxAttempts: 2, idempotencyKey: key("k1") },
      { type: "b", payload: { n: 2 }, maxAttempts: 5 },
      { type: "c" },
    ]);
    if (!out.ok) throw new Error("refused");
    expect(out.results.map((r) => [r.created, r.job.type, r.job.payload, r.job.maxAttempts, r.job.idempotencyKey, r.job.state])).toEqual([
      [true, "a", { n: 1 }, 2, key("k1"), "PENDING"],
      [true, "b", { n: 2 }, 5, null, "PENDING"],
      [true, "c", {}, 3, null, "PENDING"],
    ]);
    for (const { job } of out.results) {
      expect(await fx.repo.get(job.id)).toEqual(job);
      expect((await fx.repo.transitions(job.id)).map((t) => [t.from, t.to, t.reason])).toEqual([[null, "PENDING", "submitted"]]);
    }
  });

  it("answers the first job for a key used before or earlier in the batch", async () => {
    const first = await fx.repo.submit({ type: "x", payload: { v: 1 }, idempotencyKey: key("k2") });
    const out = await fx.repo.submitBatch([
      { type: "x", payload: { v: 1 }, idempotencyKey: key("k2") },
      { type: "y", payload: { w: 1 }, idempotencyKey: key("k3") },
      { type: "y", payload: { w: 1 }, idempotencyKey: key("k3") },
    ]);
    if (!out.ok) throw new Error("refused");
    expect(out.results[0]).toEqual({ job: first.job, created: false });
    expect(out.results[1]!.created).toBe(true);
    expect(out.results[2]).toEqual({ job: out.results[1]!.job, created: false });
  });

  it("answers the first job when a request without a payload is sent again, alone or in a batch", async () => {
    const first = await fx.repo.submit({ type: "bare", idempotencyKey: key("k7") });
    expect(first.job.payload).toEqual({});
    const again = await fx.repo.submitBatch([{ type: "bare", idempotencyKey: key("k7") }]);
    expect(again).toEqual({ ok: true, results: [{ job: first.job, created: false }] });
    expect(await fx.repo.submit({ type: "bare", idempotencyKey: key("k7") })).toEqual({ job: first.job, created: false });
  });

  it("stores nothing and names the conflicting fields when a key is reused for a different request", async () => {
    const first = await fx.repo.submit({ type: "x", payload: { v: 1 }, maxAttempts: 2, idempotencyKey: key("k4") });
    const before = Number((await fx.pool.query("select count(*) from jobs")).rows[0].count);
    const out = await fx.repo.submitBatch([
      { type: "fresh", idempotencyKey: key("k5") },
      { type: "other", payload: { v: 2 }, maxAttempts: 3, idempotencyKey: key("k4") },
    ]);
    expect(out).toEqual({ ok: false, conflicts: [{ index: 1, job: first.job, fields: ["type", "payload", "maxAttempts"] }] });
    expect(Number((await fx.pool.query("select count(*) from jobs")).rows[0].count)).toBe(before);
  });
});

describe("concurrent submits (one statement per batch)", () => {
  it("give each caller its own job with its own fields, and the first job for a shared key", async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => ({ type: `t${i % 3}`, payload: { i }, maxAttempts: 1 + (i % 4) }));
    const results = await Promise.all([...inputs.map((i) => fx.repo.submit(i)), fx.repo.submit({ type: "s", idempotencyKey: key("k6") }), fx.repo.submit({ type: "s", idempotencyKey: key("k6") })]);
    results.slice(0, 12).forEach((r, i) => {
      expect([r.created, r.job.type, r.job.payload, r.job.maxAttempts]).toEqual([true, inputs[i]!.type, inputs[i]!.payload, inputs[i]!.maxAttempts]);
    });
    expect(new Set(results.slice(0, 12).map((r) => r.job.id)).size).toBe(12);
    const [a, b] = results.slice(12);
    expect(a!.job.id).toBe(b!.job.id);
    expect([a!.created, b!.created].sort()).toEqual([false, true]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPool } from "../../../../services/core/db.js";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import type { Job, TransitionOutcome } from "../../../../services/core/jobs/types.js";
import { canTransition, JOB_STATES, type JobState } from "../../../../services/core/states.js";
import { createTestDatabase, sleep, type TestDatabase } from "../../../../harness/jobstack.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, dbPoolSize: 8 });
  repo = new JobRepository(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** A job brought to `state` through legitimate moves only. */
async function jobIn(state: JobState): Promise<Job> {
  const { job } = await repo.submit({ type: "noop", payload: { n: 1 }, maxAttempts: 3 });
  if (state === "PENDING") return job;
  if (state === "CANCELLED") return ok(await repo.cancel(job.id));
  const claimed = await repo.claim(job.id, "w1", 60_000);
  if (!claimed.ok) throw new Error(claimed.message);
  if (state === "RUNNING") return claimed.job;
  if (state === "COMPLETED") return ok(await repo.complete(job.id, claimed.job.claim, "w1", { done: true }));
  return ok(await repo.fail(job.id, claimed.job.claim, "w1", { error: new Error("nope"), retryable: false }));
}

function ok(o: TransitionOutcome): Job {
  if (!o.ok) throw new Error(o.message);
  return o.job;
}

async function snapshot(id: string) {
  const { rows } = await pool.query("select * from jobs where id = $1::uuid", [id]);
  return { row: rows[0], log: await repo.transitions(id) };
}

describe("JobRepository.submit", () => {
  it("creates a PENDING job with a UUIDv7 id and an audited creation", async () => {
    const { job, created } = await repo.submit({ type: "noop", payload: { a: 1 } });
    expect(created).toBe(true);
    expect(job).toMatchObject({ state: "PENDING", attempts: 0, maxAttempts: 3, payload: { a: 1 }, result: null, error: null, version: 1, claim: 0 });
    expect(job.id[14]).toBe("7");
    expect(await repo.transitions(job.id)).toMatchObject([{ from: null, to: "PENDING", attempt: 0, reason: "submitted" }]);
  });

  it("returns the first job for a repeated idempotency key, even under a race", async () => {
    const key = `k-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => repo.submit({ type: "noop", idempotencyKey: key })));
    const ids = new Set(results.map((r) => r.job.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const { rows } = await pool.query("select count(*)::integer as n from jobs where idempotency_key = $1::text", [key]);
    expect(rows[0].n).toBe(1);
  });

  it("answers null / empty for unknown jobs", async () => {
    expect(await repo.get("00000000-0000-7000-8000-000000000000")).toBeNull();
    expect(await repo.transitions("00000000-0000-7000-8000-000000000000")).toEqual([]);
    expect(await repo.cancel("00000000-0000-7000-8000-000000000000")).toMatchObject({ ok: false, code: "not_found" });
  });
});

// Each operation, tried from every state. The move is made only when the state machine allows
// it and the operation applies to that state; otherwise nothing changes and the outcome says why.
type Op = { name: string; to: JobState; from: JobState; run: (j: Job) => Promise<TransitionOutcome | { ok: boolean; message?: string }> };
const OPS: Op[] = [
  { name: "claim", from: "PENDING", to: "RUNNING", run: (j) => repo.claim(j.id, "w2", 60_000) },
  { name: "cancel", from: "PENDING", to: "CANCELLED", run: (j) => repo.cancel(j.id) },
  { name: "complete", from: "RUNNING", to: "COMPLETED", run: (j) => repo.complete(j.id, j.claim, "w1", 1) },
  { name: "fail (permanent)", from: "RUNNING", to: "FAILED", run: (j) => repo.fail(j.id, j.claim, "w1", { error: "x", retryable: false }) },
  { name: "fail (retryable)", from: "RUNNING", to: "PENDING", run: (j) => repo.fail(j.id, j.claim, "w1", { error: "x", retryable: true }) },
  { name: "release", from: "RUNNING", to: "PENDING", run: (j) => repo.release(j.id, j.claim, "w1") },
  { name: "retry (manual)", from: "FAILED", to: "PENDING", run: (j) => repo.retry(j.id) },
];

describe("every operation from every state", () => {
  it("tries only moves the state machine allows, from the one state each operation applies to", () => {
    expect(OPS.map((op) => `${op.name}: ${op.from}>${op.to}`)).toEqual([
      "claim: PENDING>RUNNING",
      "cancel: PENDING>CANCELLED",
      "complete: RUNNING>COMPLETED",
      "fail (permanent): RUNNING>FAILED",
      "fail (retryable): RUNNING>PENDING",
      "release: RUNNING>PENDING",
      "retry (manual): FAILED>PENDING",
    ]);
    for (const op of OPS) expect(canTransition(op.from, op.to)).toBe(true);
  });

  const cases = OPS.flatMap((op) => JOB_STATES.map((state) => [op.name, state, op] as const));
  it.each(cases)("%s from %s", async (_name, state, op) => {
    const job = await jobIn(state);
    const before = await snapshot(job.id);
    const outcome = await op.run(job);
    const allowed = state === op.from;
    if (allowed) {
      expect(outcome.ok).toBe(true);
      const after = await snapshot(job.id);
      expect(after.row.state).toBe(op.to);
      expect(Number(after.row.version)).toBe(Number(before.row.version) + 1);
      expect(after.log.at(-1)).toMatchObject({ from: state, to: op.to });
      expect(after.log).toHaveLength(before.log.length + 1);
    } else {
      expect(outcome).toMatchObject({ ok: false, code: "conflict", state });
      expect((outcome as { message: string }).message).toMatch(new RegExp(state));
      expect(await snapshot(job.id)).toEqual(before); // nothing changed, not even the audit log
    }
  });
});

describe("claims, leases and fencing", () => {
  it("gives every claim a larger number and refuses an outcome from a stale claim", async () => {
    const running = await jobIn("RUNNING");
    expect(running.claim).toBe(1);
    expect(running.attempts).toBe(1);
    expect(running.lockedBy).toBe("w1");
    const back = ok(await repo.fail(running.id, 1, "w1", { error: "flaky", retryable: true }));
    expect(back.state).toBe("PENDING");
    const second = await repo.claim(running.id, "w2", 60_000);
    expect(second).toMatchObject({ ok: true, job: { claim: 2, attempts: 2 } });
    const late = await repo.complete(running.id, 1, "w1", "late");
    expect(late).toMatchObject({ ok: false, code: "conflict", message: expect.stringMatching(/claim 1 is stale.*claim 2/) });
    expect(await repo.renewLease(running.id, 1, 1000)).toBe(false);
    expect(await repo.renewLease(running.id, 2, 1000)).toBe(true);
  });

  it("refuses a claim during retry backoff and forgets the early dispatch", async () => {
    const running = await jobIn("RUNNING");
    ok(await repo.fail(running.id, running.claim, "w1", { error: "x", retryable: true, retryDelayMs: 60_000 }));
    expect(await repo.markDispatched(running.id, running.claim)).toBe(true);
    const early = await repo.claim(running.id, "w2", 1000);
    expect(early).toMatchObject({ ok: false, code: "not_due" });
    expect((await repo.get(running.id))?.dispatchedAt).toBeNull();
    expect(await repo.msUntilDue(running.id)).toBeGreaterThan(50_000);
  });

  it("does not mark a dispatch that belongs to an older PENDING spell", async () => {
    const { job } = await repo.submit({ type: "noop" });
    const claimed = await repo.claim(job.id, "w1", 60_000);
    ok(await repo.fail(job.id, 1, "w1", { error: "x", retryable: true }));
    // The API's mark for claim 0 arrives after the job already ran once and was re-queued.
    expect(await repo.markDispatched(job.id, 0)).toBe(false);
    expect(claimed.ok).toBe(true);
    expect(await repo.markDispatched(job.id, 1)).toBe(true);
  });

  it("ends FAILED after maxAttempts retryable failures, each attempt audited", async () => {
    const { job } = await repo.submit({ type: "noop", maxAttempts: 3 });
    for (let i = 1; i <= 3; i++) {
      const c = await repo.claim(job.id, "w1", 60_000);
      if (!c.ok) throw new Error(c.message);
      ok(await repo.fail(job.id, c.job.claim, "w1", { error: `try ${i}`, retryable: true }));
    }
    const final = await repo.get(job.id);
    expect(final).toMatchObject({ state: "FAILED", attempts: 3, error: { message: "try 3" } });
    const log = await repo.transitions(job.id);
    expect(log.map((t) => `${t.from}>${t.to}@${t.attempt}`)).toEqual([
      "null>PENDING@0",
      "PENDING>RUNNING@1",
      "RUNNING>PENDING@1",
      "PENDING>RUNNING@2",
      "RUNNING>PENDING@2",
      "PENDING>RUNNING@3",
      "RUNNING>FAILED@3",
    ]);
    // An operator's retry resets the attempts.
    expect(ok(await repo.retry(job.id))).toMatchObject({ state: "PENDING", attempts: 0, error: null });
    expect((await repo.transitions(job.id)).at(-1)).toMatchObject({ from: "FAILED", to: "PENDING", reason: "manual retry" });
  });
});

// Submissions, dispatch marks, claims and outcomes that arrive together are written as one
// statement per batch (services/core/batch.ts). Three repositories (three processes' worth of
// pools) race over the same jobs: each job must still be claimed once and finished once.
describe("batched statements", () => {
  it("claims each job once and records one outcome per claim, with batches from three repositories racing", async () => {
    const pools = [1, 2, 3].map(() => createPool({ databaseUrl: db.url, dbPoolSize: 4 }));
    const repos = pools.map((p) => new JobRepository(p));
    try {
      const submitted = await Promise.all(Array.from({ length: 60 }, (_, i) => repos[i % 3]!.submit({ type: "noop", payload: { i } })));
      const ids = submitted.map((s) => s.job.id);
      expect(new Set(ids).size).toBe(60);
      // Marks from one repository (for claim 0 and, in the same batches, for a claim no job reached),
      // and every job claimed twice — by two repositories, in opposite orders.
      const [marks, strayMarks, first, second] = await Promise.all([
        Promise.all(ids.map((id) => repos[0]!.markDispatched(id, 0))),
        Promise.all(ids.map((id) => repos[0]!.markDispatched(id, 7))),
        Promise.all(ids.map((id) => repos[1]!.claim(id, "w1", 60_000))),
        Promise.all([...ids].reverse().map((id) => repos[2]!.claim(id, "w2", 60_000))).then((r) => r.reverse()),
      ]);
      expect(strayMarks.filter(Boolean)).toEqual([]);
      const winners = ids.map((id, i) => {
        const claims = [first[i]!, second[i]!].filter((c) => c.ok);
        expect(claims).toHaveLength(1);
        return { id, repo: first[i]!.ok ? repos[1]! : repos[2]!, claim: (claims[0] as { job: Job }).job.claim };
      });
      // The holder completes; at the same moment a stale claim completes and a releaser tries its luck.
      const outcomes = await Promise.all(
        winners.map((w) =>
          Promise.all([w.repo.complete(w.id, w.claim, "holder", { ok: true }), repos[0]!.complete(w.id, w.claim + 1, "stale", 0), repos[0]!.release(w.id, w.claim, "x")]),
        ),
      );
      for (const o of outcomes) expect(o.filter((x) => x.ok)).toHaveLength(1);
      for (const [i, id] of ids.entries()) {
        const { row, log } = await snapshot(id);
        expect(log.map((t) => `${t.from}>${t.to}`)).toEqual(["null>PENDING", "PENDING>RUNNING", outcomes[i]![0]!.ok ? "RUNNING>COMPLETED" : "RUNNING>PENDING"]);
        expect(Number(row.version)).toBe(3);
        // A mark applies only while the job is still PENDING under claim 0, so it says true exactly
        // when it stamped the row. Completing keeps the stamp; releasing clears it.
        if (outcomes[i]![0]!.ok) expect({ id, marked: row.dispatched_at !== null }).toEqual({ id, marked: marks[i] });
        else expect(row.dispatched_at).toBeNull();
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

describe("reaper and sweeper", () => {
  it("reaps expired leases to PENDING or, on the last attempt, FAILED — once, with reapers racing", async () => {
    const a = await repo.submit({ type: "noop", maxAttempts: 2 });
    const b = await repo.submit({ type: "noop", maxAttempts: 1 });
    await repo.claim(a.job.id, "dead", 50);
    await repo.claim(b.job.id, "dead", 50);
    await sleep(120);
    const reaped = (await Promise.all([repo.reapExpired("r1"), repo.reapExpired("r2"), repo.reapExpired("r3")])).flat();
    const mine = reaped.filter((j) => j.id === a.job.id || j.id === b.job.id);
    expect(mine.map((j) => `${j.id === a.job.id ? "a" : "b"}:${j.state}`).sort()).toEqual(["a:PENDING", "b:FAILED"]);
    expect((await repo.transitions(a.job.id)).at(-1)).toMatchObject({ from: "RUNNING", to: "PENDING", reason: expect.stringMatching(/lease expired \(claim 1 held by dead\)/) });
    expect((await repo.get(a.job.id))?.dispatchedAt).toBeNull();
  });

  it("sweeps each undispatched job exactly once with sweepers racing, and leaves failed publishes undispatched", async () => {
    await pool.query("update jobs set dispatched_at = now() where dispatched_at is null");
    const ids = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await repo.submit({ type: "noop", payload: { i } })).job.id));
    const published: string[] = [];
    const failOn = ids[0]!;
    const publish = async (job: Job) => {
      await sleep(5);
      if (job.id === failOn) throw new Error("broker down");
      published.push(job.id);
    };
    const results = await Promise.all([1, 2, 3].map(() => repo.sweepUndispatched(publish, 0, 100)));
    expect(published.sort()).toEqual(ids.slice(1).sort());
    // A failed publish stays undispatched, so a sweeper that starts after another one committed
    // may try it again: the same job, never another one.
    expect([...new Set(results.flatMap((r) => r.failed.map((f) => f.job.id)))]).toEqual([failOn]);
    expect((await repo.findUndispatched(0)).map((j) => j.id)).toEqual([failOn]);
  });

  it("reports each committed transition, and no refused one, to the listener", async () => {
    const heard: string[] = [];
    const listening = new JobRepository(pool, { onTransition: (from, to) => heard.push(`${from}>${to}`) });
    const { job } = await listening.submit({ type: "noop" });
    const claimed = await listening.claim(job.id, "w1", 60_000);
    if (!claimed.ok) throw new Error(claimed.message);
    expect((await listening.cancel(job.id)).ok).toBe(false); // refused: RUNNING cannot be cancelled
    ok(await listening.complete(job.id, claimed.job.claim, "w1", null));
    expect(heard).toEqual(["null>PENDING", "PENDING>RUNNING", "RUNNING>COMPLETED"]);
  });
});

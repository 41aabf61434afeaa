// Dispatch marks sent together (services/core/jobs/operations/dispatch.ts, batched by
// JobRepository): each answers for its own job and claim. On the real Postgres.
import { describe, expect, it } from "vitest";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import { repositoryFixture } from "./repository-fixture.js";

const fx = repositoryFixture();

describe("markDispatched, many at once", () => {
  it("marks each current PENDING spell once, and refuses a wrong claim, a repeated mark and a claimed job", async () => {
    const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => fx.repo.submit({ type: "noop", payload: { i } }).then((r) => r.job)));
    const claimed = await fx.repo.claim(jobs[7]!.id, "w1", 60_000);
    if (!claimed.ok) throw new Error(claimed.message);
    const answers = await Promise.all([
      ...jobs.slice(0, 6).map((j) => fx.repo.markDispatched(j.id)),
      fx.repo.markDispatched(jobs[6]!.id, 5),
      fx.repo.markDispatched(jobs[7]!.id),
      fx.repo.markDispatched(jobs[0]!.id.toUpperCase()),
    ]);
    expect(answers.slice(0, 8)).toEqual([true, true, true, true, true, true, false, false]);
    // The same job twice in flight: exactly one of the two marks applied.
    expect(answers[0]! !== answers[8]!).toBe(true);
    const { rows } = await fx.pool.query("select id, dispatched_at is not null as marked from jobs order by id");
    const marked = Object.fromEntries(rows.map((r: { id: string; marked: boolean }) => [r.id, r.marked]));
    expect(jobs.map((j) => marked[j.id])).toEqual([true, true, true, true, true, true, false, false]);
    expect(await fx.repo.markDispatched(jobs[1]!.id)).toBe(false);
  });
});

describe("markDispatchedSoon (the publisher's background mark)", () => {
  it("writes nothing until its linger ends or a flush, then marks the PENDING jobs in one statement and skips a claimed one", async () => {
    const jobs = await Promise.all(Array.from({ length: 4 }, (_, i) => fx.repo.submit({ type: "noop", payload: { i } }).then((r) => r.job)));
    const claimed = await fx.repo.claim(jobs[3]!.id, "w1", 60_000);
    if (!claimed.ok) throw new Error(claimed.message);
    for (const j of jobs) fx.repo.markDispatchedSoon(j.id);
    const ids = jobs.map((j) => j.id);
    const before = await fx.pool.query("select count(*)::int as n from jobs where dispatched_at is not null and id = any($1::uuid[])", [ids]);
    expect(before.rows[0].n).toBe(0);
    await fx.repo.flushDispatchMarks();
    const { rows } = await fx.pool.query("select id, dispatched_at is not null as marked from jobs where id = any($1::uuid[])", [ids]);
    const marked = Object.fromEntries(rows.map((r: { id: string; marked: boolean }) => [r.id, r.marked]));
    expect(jobs.map((j) => marked[j.id])).toEqual([true, true, true, false]);
  });

  it("reports a mark that failed to onMarkFailed instead of rejecting", async () => {
    const failures: unknown[] = [];
    const repo = new JobRepository(fx.pool, { onMarkFailed: (err) => failures.push(err) });
    repo.markDispatchedSoon("not-a-uuid");
    await repo.flushDispatchMarks();
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/uuid/);
  });
});

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

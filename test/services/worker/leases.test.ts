// LeaseKeeper (services/worker/leases.ts) against a real database: every kept lease renewed by
// one statement per tick, a lost lease reported once, never two renewals at once, a failed
// renewal retried.
import { pino } from "pino";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { createPool } from "../../../services/core/db.js";
import { JobRepository } from "../../../services/core/jobs/repository.js";
import type { Job } from "../../../services/core/jobs/types.js";
import { LeaseKeeper } from "../../../services/worker/leases.js";
import { eventually } from "../../../harness/jobstack.js";
import { repositoryFixture } from "../core/jobs/repository-fixture.js";

const fx = repositoryFixture({ poolSize: 6 });

/** RUNNING jobs, claimed by w1 with a short lease. */
async function running(n: number, leaseMs = 1_000): Promise<Job[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const { job } = await fx.repo.submit({ type: "noop" });
      const claimed = await fx.repo.claim(job.id, "w1", leaseMs);
      if (!claimed.ok) throw new Error(claimed.message);
      return claimed.job;
    }),
  );
}

/** Each job's lease_expires_at (epoch ms) and how far it reaches past the database's now(). */
async function leases(jobs: readonly Job[]): Promise<{ at: number; leftMs: number }[]> {
  const { rows } = await fx.pool.query<{ id: string; lease_expires_at: Date; left_ms: number }>(
    "select id, lease_expires_at, (extract(epoch from lease_expires_at - now()) * 1000)::integer as left_ms from jobs where id = any($1::uuid[])",
    [jobs.map((j) => j.id)],
  );
  return rows.map((r) => ({ at: r.lease_expires_at.getTime(), leftMs: r.left_ms }));
}

/** Holds the job's row lock (as a concurrent transition would) until release() commits. */
async function lockRow(id: string): Promise<{ client: pg.PoolClient; release: () => Promise<void> }> {
  const client = await fx.pool.connect();
  await client.query("begin");
  await client.query("select id from jobs where id = $1::uuid for update", [id]);
  return {
    client,
    release: async () => {
      await client.query("commit");
      client.release();
    },
  };
}

/** Renewal statements running (or waiting for a lock) now, from any connection of the test database. */
async function renewalsInFlight(): Promise<number> {
  const { rows } = await fx.pool.query<{ n: number }>(
    "select count(*)::integer as n from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid() and query like '%unnest($1::uuid[], $2::bigint[]) as h(id, claim)%'",
  );
  return rows[0]!.n;
}

const blockedOnLock = () =>
  eventually(
    "a renewal waits for the row lock",
    async () => (await fx.pool.query<{ n: number }>("select count(*)::integer as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]!.n > 0,
    30_000,
    10,
  );

describe("LeaseKeeper", () => {
  it("renews every lease it keeps with one statement per tick, from the timer on", async () => {
    const jobs = await running(40, 500);
    const keeper = new LeaseKeeper({ leaseMs: 3_000, repo: fx.repo }); // a tick every second
    try {
      for (const j of jobs) keeper.add(j, () => expect.fail(`lease of ${j.id} reported lost`));
      // Claimed for 500 ms: held now only because a tick renewed them for 3 s.
      await eventually("renewed by a tick", async () => (await leases(jobs)).every((l) => l.leftMs > 1_500), 30_000, 50);
      // The same now() for all: one statement renewed them all.
      expect(new Set((await leases(jobs)).map((l) => l.at)).size).toBe(1);
    } finally {
      await keeper.stop();
    }
  });

  it("splits a renewal into statements of chunkSize leases", async () => {
    const jobs = await running(20);
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: fx.repo, chunkSize: 7 });
    for (const j of jobs) keeper.add(j, () => expect.fail(`lease of ${j.id} reported lost`));
    await keeper.renewAll();
    await keeper.stop();
    const renewed = await leases(jobs);
    expect(renewed.every((l) => l.leftMs > 50_000)).toBe(true);
    // 7 + 7 + 6: three statements, three instants.
    expect(new Set(renewed.map((l) => l.at)).size).toBe(3);
  });

  it("reports a lease whose claim moved on, or whose job finished, as lost once; keeps renewing the rest", async () => {
    const [moved, finished, kept] = await running(3);
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: fx.repo });
    const lost: string[] = [];
    for (const j of [moved!, finished!, kept!]) keeper.add(j, () => lost.push(j.id));
    expect((await fx.repo.fail(moved!.id, moved!.claim, "w1", { error: "flaky", retryable: true })).ok).toBe(true);
    expect((await fx.repo.claim(moved!.id, "w2", 60_000)).ok).toBe(true); // claim 2, another worker's
    expect((await fx.repo.complete(finished!.id, finished!.claim, "w1", null)).ok).toBe(true);

    await keeper.renewAll();
    await keeper.renewAll();
    await keeper.stop();
    expect(lost.sort()).toEqual([moved!.id, finished!.id].sort());
    const [k] = await leases([kept!]);
    expect(k!.leftMs).toBeGreaterThan(50_000);
  });

  it("does not report a lease removed while its renewal ran (the handler returned, its outcome committed)", async () => {
    const [job] = await running(1);
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: fx.repo });
    let lost = 0;
    keeper.add(job!, () => lost++);
    const lock = await lockRow(job!.id);
    const renewal = keeper.renewAll();
    await blockedOnLock();
    keeper.remove(job!);
    // The outcome commits meanwhile (written here by hand, under the lock the renewal waits for).
    await lock.client.query("update jobs set state = 'COMPLETED', lease_expires_at = null where id = $1::uuid", [job!.id]);
    await lock.release();
    await renewal;
    await keeper.stop();
    expect(lost).toBe(0);
  });

  it("never runs two renewals at once: a tick that finds one running is skipped", async () => {
    const jobs = await running(2);
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: fx.repo, intervalMs: 50 });
    for (const j of jobs) keeper.add(j, () => expect.fail(`lease of ${j.id} reported lost`));
    expect(keeper.renewAll()).toBe(keeper.renewAll()); // a second call joins the running renewal
    const lock = await lockRow(jobs[0]!.id);
    try {
      await blockedOnLock();
      // About 15 ticks while the renewal waits for the lock: none of them starts another.
      const seen: number[] = [];
      for (const until = Date.now() + 750; Date.now() < until; ) seen.push(await renewalsInFlight());
      expect(Math.max(...seen)).toBe(1);
    } finally {
      await lock.release();
    }
    // Once the lock is gone the ticks go on renewing.
    await eventually("renewed", async () => (await leases(jobs)).every((l) => l.leftMs > 50_000), 30_000, 50);
    await keeper.stop();
  });

  it("logs a failed renewal, reports nothing lost, and renews at the next tick", async () => {
    const [job] = await running(1);
    // A statement timeout turns the wait for the row lock into an error.
    const pool = createPool({ databaseUrl: fx.db.url, dbPoolSize: 2, statementTimeoutMs: 100 });
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: new JobRepository(pool), intervalMs: 150, log });
    try {
      keeper.add(job!, () => expect.fail("reported lost"));
      const lock = await lockRow(job!.id);
      await eventually("a renewal failed", async () => lines.some((l) => l.includes("lease renewal failed; retrying")), 30_000, 20);
      await lock.release();
      await eventually("renewed at a later tick", async () => (await leases([job!]))[0]!.leftMs > 50_000, 30_000, 50);
      expect(keeper.size).toBe(1);
    } finally {
      await keeper.stop();
      await pool.end();
    }
  });

  it("keeps one claim per job: a newer claim of the same job makes the older one lost at once", async () => {
    const keeper = new LeaseKeeper({ leaseMs: 60_000, repo: fx.repo });
    const lost: number[] = [];
    const id = "01a00000-0000-7000-8000-000000000001";
    keeper.add({ id, claim: 1 }, () => lost.push(1));
    keeper.add({ id, claim: 2 }, () => lost.push(2));
    expect(lost).toEqual([1]);
    keeper.add({ id, claim: 1 }, () => lost.push(-1)); // an older claim than the one kept: stale on arrival
    expect(lost).toEqual([1, -1]);
    keeper.remove({ id, claim: 1 }); // the older run's handler returns: the newer claim stays kept
    expect(keeper.size).toBe(1);
    keeper.remove({ id, claim: 2 });
    expect(keeper.size).toBe(0);
    await keeper.stop();
  });
});

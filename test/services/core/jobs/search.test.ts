// Job search's SQL (services/core/jobs/search.ts) run on the real Postgres: each filter narrows,
// pages follow the newest-first keyset without gaps or repeats, and the counts the stats read.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPool } from "../../../../services/core/db.js";
import { JOB_STATES } from "../../../../services/core/states.js";
import { JobRepository } from "../../../../services/core/jobs/repository.js";
import { countByTypeAndState, oldestPendingAge, searchStatement, type JobFilter, type Keyset } from "../../../../services/core/jobs/search.js";
import { createTestDatabase, type TestDatabase } from "../../../../harness/jobstack.js";

let db: TestDatabase;
let pool: pg.Pool;
let repo: JobRepository;
// Five jobs a minute apart, oldest first: a0 (alpha) … a4 (beta, cancelled).
const ids: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, dbPoolSize: 2 });
  repo = new JobRepository(pool);
  for (const [i, type] of ["alpha", "alpha", "beta", "alpha", "beta"].entries()) {
    const { job } = await repo.submit({ type, payload: { i } });
    ids.push(job.id);
    await pool.query("update jobs set created_at = timestamptz '2026-01-01T00:00:00Z' + $2::integer * interval '1 minute' where id = $1::uuid", [job.id, i]);
  }
  const cancelled = await repo.cancel(ids[4]!);
  if (!cancelled.ok) throw new Error(cancelled.message);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function search(filter: JobFilter, after: Keyset | null = null, limit = 10, columns?: string) {
  const { text, values } = searchStatement(filter, after, limit, columns);
  const { rows } = await pool.query(text, values);
  return rows as { id: string; type: string; state: string; created_us: string }[];
}

const newestFirst = (...indexes: number[]) => indexes.map((i) => ids[i]);

describe("searchStatement", () => {
  it("without a filter, returns every job newest first, with the keyset's microseconds", async () => {
    const rows = await search({});
    expect(rows.map((r) => r.id)).toEqual(newestFirst(4, 3, 2, 1, 0));
    expect(rows[4]!.created_us).toBe(String(Date.UTC(2026, 0, 1) * 1000));
    expect(rows[0]!.created_us).toBe(String((Date.UTC(2026, 0, 1) + 4 * 60_000) * 1000));
  });

  it("narrows by state (each state once), type, creation time and ids", async () => {
    expect((await search({ states: ["CANCELLED"] })).map((r) => r.id)).toEqual(newestFirst(4));
    expect((await search({ states: ["PENDING", "PENDING"] })).map((r) => r.id)).toEqual(newestFirst(3, 2, 1, 0));
    expect((await search({ states: [] })).map((r) => r.id)).toEqual(newestFirst(4, 3, 2, 1, 0));
    expect((await search({ type: "beta" })).map((r) => r.id)).toEqual(newestFirst(4, 2));
    expect((await search({ type: "alpha", states: ["PENDING"] })).map((r) => r.id)).toEqual(newestFirst(3, 1, 0));
    // Strictly after 00:01 and strictly before 00:04.
    expect((await search({ createdAfter: "2026-01-01T00:01:00Z", createdBefore: "2026-01-01T00:04:00Z" })).map((r) => r.id)).toEqual(newestFirst(3, 2));
    expect((await search({ ids: [ids[0]!, ids[3]!] })).map((r) => r.id)).toEqual(newestFirst(3, 0));
  });

  it("pages by keyset: strictly after the last row, at most limit rows", async () => {
    const first = await search({}, null, 2);
    expect(first.map((r) => r.id)).toEqual(newestFirst(4, 3));
    const last = first[1]!;
    const second = await search({}, { createdAtMicros: last.created_us, id: last.id }, 2);
    expect(second.map((r) => r.id)).toEqual(newestFirst(2, 1));
    const after = second[1]!;
    expect((await search({}, { createdAtMicros: after.created_us, id: after.id }, 2)).map((r) => r.id)).toEqual(newestFirst(0));
  });

  it("returns the columns it is asked for (the order needs id and created_at)", async () => {
    const [row] = await search({ ids: [ids[2]!] }, null, 1, "id, type, created_at");
    expect(Object.keys(row!).sort()).toEqual(["created_at", "created_us", "id", "type"]);
    expect(row!.type).toBe("beta");
  });

  it("numbers its parameters in the order it adds them", () => {
    const s = searchStatement({ type: "t", createdAfter: "a", createdBefore: "b", ids: ["i"] }, { createdAtMicros: "5", id: "k" }, 7, "id");
    expect(s.values).toEqual([[...JOB_STATES], "t", "a", "b", ["i"], "5", "k", 7]);
    expect(s.text).toContain("j.type = $2::text");
    expect(s.text).toContain("j.created_at > $3::timestamptz");
    expect(s.text).toContain("j.created_at < $4::timestamptz");
    expect(s.text).toContain("j.id = any($5::uuid[])");
    expect(s.text).toContain("(j.created_at, j.id) < (timestamptz 'epoch' + $6::bigint * interval '1 microsecond', $7::uuid)");
    expect(s.text).toContain("limit $8::integer");
  });
});

describe("the stats' statements", () => {
  it("count jobs by type and state", async () => {
    const { rows } = await pool.query(countByTypeAndState);
    const counts = Object.fromEntries(rows.map((r: { type: string; state: string; n: string }) => [`${r.type}/${r.state}`, Number(r.n)]));
    expect(counts).toEqual({ "alpha/PENDING": 3, "beta/PENDING": 1, "beta/CANCELLED": 1 });
  });

  it("measure the wait of the oldest due PENDING job, ignoring jobs not yet due", async () => {
    await pool.query("update jobs set run_after = now() - interval '90 seconds' where id = $1::uuid", [ids[0]]);
    await pool.query("update jobs set run_after = now() + interval '1 hour' where state = 'PENDING' and id <> $1::uuid", [ids[0]]);
    const { rows } = await pool.query(oldestPendingAge);
    expect(rows[0].seconds).toBeGreaterThanOrEqual(90);
    expect(rows[0].seconds).toBeLessThan(120);
    await pool.query("update jobs set run_after = now() + interval '1 hour' where id = $1::uuid", [ids[0]]);
    expect((await pool.query(oldestPendingAge)).rows[0].seconds).toBe(0);
  });
});

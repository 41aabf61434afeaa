// Migration 003 converts an existing job_transitions table into a partitioned one without losing
// or rewriting a row: the old table becomes the partition below the cutover, rows with ids above
// it (not UUIDv7) move to the default partition, and new jobs keep being audited.
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createPool } from "../../../services/core/db.js";
import { JobRepository } from "../../../services/core/jobs/repository.js";
import { uuidv7 } from "../../../services/core/uuid.js";
import { migrate, MIGRATIONS_DIR } from "../../../services/migrations/migrate.js";
import { PG_ADMIN_URL } from "../../../harness/jobstack.js";

describe("migration 004 on a database with jobs", () => {
  const name = `jobstack_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const url = Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${name}` }).toString();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  const before = mkdtempSync(path.join(tmpdir(), "jobstack-migrations-"));
  let pool: pg.Pool;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database ${name}`);
    for (const f of ["001_jobs.sql", "002_stale_dispatch_idx.sql", "003_job_search_idx.sql"]) cpSync(path.join(MIGRATIONS_DIR, f), path.join(before, f));
    pool = createPool({ databaseUrl: url, dbPoolSize: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    // Without force first: a forced drop can still hit a pool connection that is closing and
    // surface its termination as an unhandled error.
    for (let i = 0; ; i++) {
      try {
        await admin.query(`drop database if exists ${name}${i >= 20 ? " with (force)" : ""}`);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await admin.end();
    rmSync(before, { recursive: true, force: true });
  });

  it("keeps every audit row readable, and audits new jobs in the new partitions", async () => {
    expect((await migrate(url, before)).applied).toEqual(["001_jobs.sql", "002_stale_dispatch_idx.sql", "003_job_search_idx.sql"]);
    const old = uuidv7();
    const outsider = "ffffffff-ffff-4fff-8fff-ffffffffffff"; // an id supplied from outside, above any cutover
    for (const id of [old, outsider]) {
      await pool.query("insert into jobs (id, type, state, max_attempts) values ($1::uuid, 'noop', 'COMPLETED', 1)", [id]);
      await pool.query(
        `insert into job_transitions (job_id, from_state, to_state, attempt, claim, reason) values
         ($1::uuid, null, 'PENDING', 0, 0, 'submitted'), ($1::uuid, 'PENDING', 'RUNNING', 1, 1, 'claimed'),
         ($1::uuid, 'RUNNING', 'COMPLETED', 1, 1, 'completed')`,
        [id],
      );
    }

    expect((await migrate(url)).applied).toEqual(["004_retention.sql"]);
    const repo = new JobRepository(pool);
    expect((await repo.transitions(old)).map((t) => [t.seq, t.to])).toEqual([
      [1, "PENDING"],
      [2, "RUNNING"],
      [3, "COMPLETED"],
    ]);
    expect(await repo.transitions(outsider)).toHaveLength(3);
    const parts = await pool.query<{ part: string; n: number }>(
      "select tableoid::regclass::text as part, count(*)::integer as n from job_transitions group by 1 order by 1",
    );
    expect(parts.rows).toEqual([
      { part: "job_transitions_default", n: 3 },
      { part: "job_transitions_legacy", n: 3 },
    ]);
    const kind = await pool.query<{ relkind: string }>("select relkind from pg_class where relname = 'job_transitions'");
    expect(kind.rows[0]!.relkind).toBe("p");

    // New jobs: audited (into the default partition until the worker creates range partitions),
    // the sequence carries on, and no foreign key is left to block retention.
    const { job } = await repo.submit({ type: "noop", payload: {} });
    const log = await repo.transitions(job.id);
    expect(log).toHaveLength(1);
    expect(log[0]!.seq).toBe(7);
    const fks = await pool.query("select 1 from pg_constraint where contype = 'f' and conrelid::regclass::text like 'job_transitions%'");
    expect(fks.rowCount).toBe(0);
  });
});

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { loadMigrations, migrate } from "../../../services/migrations/migrate.js";
import { PG_ADMIN_URL } from "../../../harness/jobstack.js";

describe("migrate", () => {
  const name = `jobstack_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const url = Object.assign(new URL(PG_ADMIN_URL), { pathname: `/${name}` }).toString();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create database ${name}`);
  });
  afterAll(async () => {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it("applies every numbered file once, in order, and re-running is a no-op", async () => {
    const files = (await loadMigrations()).map((m) => m.name);
    expect(files[0]).toBe("001_jobs.sql");
    // Three migrators at once (api start, `jobstack local`, npm run migrate) serialise on the lock.
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(files);
    const again = await migrate(url);
    expect(again).toEqual({ applied: [], skipped: files });

    const pool = new pg.Pool({ connectionString: url });
    pool.on("error", () => undefined); // afterAll's forced drop may end a connection still closing
    try {
      expect((await migrate(pool)).applied).toEqual([]);
      const { rows } = await pool.query("select version, name from schema_migrations order by version");
      expect(rows.map((r) => r.name)).toEqual(files);
      const tables = await pool.query("select tablename from pg_tables where schemaname = 'public' order by 1");
      // job_transitions is partitioned (004): its default partition and the pre-004 table are tables too.
      expect(tables.rows.map((r) => r.tablename)).toEqual(["job_transitions", "job_transitions_default", "job_transitions_legacy", "jobs", "schema_migrations"]);
    } finally {
      await pool.end();
    }
  });
});

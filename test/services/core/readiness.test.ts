// Readiness checks and the schema-version gate (services/core/readiness.ts, schema-version.ts)
// against the real Postgres and Redis: what each check reports, which checks decide readiness,
// and the exact reasons a pod gives for not being ready.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis, waitForRedis } from "../../../services/core/cache.js";
import { createPool } from "../../../services/core/db.js";
import { checkReadiness, readinessChecks } from "../../../services/core/readiness.js";
import { checkSchemaVersion, requiredSchemaVersion } from "../../../services/core/schema-version.js";
import { JobQueue } from "../../../services/core/queue.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, REDIS_URL, testQueueName, type TestDatabase } from "../../../harness/jobstack.js";

let db: TestDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ databaseUrl: db.url, dbPoolSize: 2 });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const never = () => new Promise<void>(() => undefined);

describe("checkReadiness", () => {
  it("reports every check, with the first line of a failure, a timeout, and a thrown non-error", async () => {
    const report = await checkReadiness(
      {
        up: async () => "pong",
        refused: async () => {
          throw new Error("connect ECONNREFUSED\n    at a stack line");
        },
        sync: () => {
          throw new Error("thrown before any await");
        },
        hung: never,
        silent: async () => {
          throw new Error("");
        },
        long: async () => {
          throw new Error("x".repeat(300));
        },
        odd: () => Promise.reject("a plain string"),
      },
      100,
    );
    expect(report).toEqual({
      ready: false,
      required: ["up", "refused", "sync", "hung", "silent", "long", "odd"],
      dependencies: {
        up: { ok: true },
        refused: { ok: false, error: "connect ECONNREFUSED" },
        sync: { ok: false, error: "thrown before any await" },
        hung: { ok: false, error: "check timed out after 100 ms" },
        silent: { ok: false, error: "failed" },
        long: { ok: false, error: "x".repeat(200) },
        odd: { ok: false, error: "a plain string" },
      },
    });
  });

  it("decides readiness by the required checks only, and ignores required names it was not given", async () => {
    const checks = { postgres: async () => undefined, redis: never };
    expect(await checkReadiness(checks, 50, ["postgres", "schema"])).toEqual({
      ready: true,
      required: ["postgres"],
      dependencies: { postgres: { ok: true }, redis: { ok: false, error: "check timed out after 50 ms" } },
    });
    expect((await checkReadiness(checks, 50, ["redis"])).ready).toBe(false);
    expect(await checkReadiness({}, 50)).toEqual({ ready: true, required: [], dependencies: {} });
  });

  it("runs the checks side by side: two hung checks cost one timeout", async () => {
    const started = Date.now();
    await checkReadiness({ a: never, b: never, c: never }, 300);
    expect(Date.now() - started).toBeLessThan(850);
  });
});

describe("readinessChecks on the real servers", () => {
  it("answers for Postgres, the schema and Redis", async () => {
    const redis = createRedis(REDIS_URL);
    try {
      expect(await waitForRedis(redis)).toBe(true);
      // The rabbitmq check has its own test below.
      const checks = readinessChecks(pool, redis, null as never);
      expect(Object.keys(checks)).toEqual(["postgres", "schema", "redis", "rabbitmq"]);
      const { rabbitmq: _, ...servers } = checks;
      expect(await checkReadiness(servers, 2_000)).toEqual({
        ready: true,
        required: ["postgres", "schema", "redis"],
        dependencies: { postgres: { ok: true }, schema: { ok: true }, redis: { ok: true } },
      });
      const ahead = readinessChecks(pool, redis, null as never, 99);
      expect(await checkReadiness({ schema: ahead.schema! }, 2_000)).toMatchObject({
        ready: false,
        dependencies: { schema: { ok: false, error: "database schema is at version 4, this build needs 99; run the migrations" } },
      });
    } finally {
      redis.disconnect();
    }
  });
});

describe("readinessChecks with the servers unreachable", () => {
  it("reports Postgres, the schema and Redis down", async () => {
    const deadPool = createPool({ databaseUrl: "postgres://postgres@127.0.0.1:1/x", dbPoolSize: 1 });
    const deadRedis = createRedis("redis://127.0.0.1:1", () => undefined);
    try {
      const { rabbitmq: _, ...checks } = readinessChecks(deadPool, deadRedis, null as never, 1);
      const report = await checkReadiness(checks, 1_500);
      expect(report.ready).toBe(false);
      expect(report.dependencies.postgres).toMatchObject({ ok: false, error: expect.stringMatching(/ECONNREFUSED|connect/) });
      expect(report.dependencies.schema).toMatchObject({ ok: false });
      expect(report.dependencies.redis).toMatchObject({ ok: false });
    } finally {
      deadRedis.disconnect();
      await deadPool.end();
    }
  });
});

describe("the rabbitmq check on the real broker", () => {
  it("passes with a publisher session, and says 'not connected' without one", async () => {
    const name = testQueueName();
    const up = new JobQueue({ url: AMQP_URL, queue: name, queueType: "classic" });
    const down = new JobQueue({ url: "amqp://guest:guest@127.0.0.1:1", queue: testQueueName(), connectTimeoutMs: 200 });
    try {
      await up.connect(5_000);
      const report = await checkReadiness(
        { up: readinessChecks(pool, null as never, up).rabbitmq!, down: readinessChecks(pool, null as never, down).rabbitmq! },
        1_000,
      );
      expect(report.dependencies).toEqual({ up: { ok: true }, down: { ok: false, error: "not connected" } });
    } finally {
      await up.close();
      await down.close();
      await deleteQueueTopology(name).catch(() => undefined);
    }
  });
});

describe("requiredSchemaVersion", () => {
  it("is the highest NNN_name.sql in the migrations folder (004_retention.sql today)", () => {
    expect(requiredSchemaVersion()).toBe(4);
  });

  it("counts only NNN_name.sql files", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "jobstack-migrations-"));
    try {
      for (const f of ["001_init.sql", "012_add-index.sql", "099_notes.txt", "100.sql", "x101_y.sql", "102_z.sql.bak", "notes.sql"]) writeFileSync(path.join(dir, f), "");
      expect(requiredSchemaVersion(dir)).toBe(12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("throws, naming the folder, when it holds no migration", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "jobstack-migrations-"));
    try {
      writeFileSync(path.join(dir, "readme.md"), "");
      expect(() => requiredSchemaVersion(dir)).toThrow(`no migrations found in ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("checkSchemaVersion", () => {
  it("passes at the database's version and below it (a newer release migrated first)", async () => {
    await expect(checkSchemaVersion(pool, 4)).resolves.toBeUndefined();
    await expect(checkSchemaVersion(pool, 1)).resolves.toBeUndefined();
    await expect(checkSchemaVersion(pool, 5)).rejects.toThrow(/^database schema is at version 4, this build needs 5; run the migrations$/);
  });

  it("names a database never migrated, one with no migration recorded, and passes any other failure on", async () => {
    const bare = await createTestDatabase();
    const barePool = createPool({ databaseUrl: bare.url, dbPoolSize: 1 });
    try {
      await barePool.query("alter table schema_migrations rename to schema_migrations_kept");
      await expect(checkSchemaVersion(barePool, 4)).rejects.toThrow(
        /^database not migrated: schema_migrations does not exist \(this build needs schema version 4; run the migrations\)$/,
      );
      await barePool.query("create table schema_migrations (version integer)");
      await expect(checkSchemaVersion(barePool, 1)).rejects.toThrow(/^database schema is at version 0, this build needs 1; run the migrations$/);
      await barePool.query("drop table schema_migrations");
      await barePool.query("create table schema_migrations (other integer)");
      // An undefined column (42703) is not "never migrated": the original error goes through.
      await expect(checkSchemaVersion(barePool, 1)).rejects.toMatchObject({ code: "42703" });
    } finally {
      await barePool.end();
      await bare.drop();
    }
  });
});

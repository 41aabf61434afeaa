import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createPool, RollbackFailedError, withTransaction } from "../../../services/core/db.js";
import { isRetryableError } from "../../../services/core/errors.js";
import { PG_ADMIN_URL } from "../../../harness/servers.js";

let pool: pg.Pool;
let admin: pg.Pool;

beforeAll(() => {
  pool = createPool({ databaseUrl: PG_ADMIN_URL, dbPoolSize: 1, applicationName: "jobstack-db-test" });
  admin = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1 });
});
afterAll(async () => {
  await pool?.end();
  await admin?.end();
});

describe("withTransaction", () => {
  it("rethrows the error of fn as it is when the rollback works, and rolls back", async () => {
    const original = new Error("fn failed");
    let pid = 0;
    const thrown = await withTransaction(pool, async (client) => {
      pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      await client.query("create temporary table rolled_back (n int)");
      throw original;
    }).catch((err: unknown) => err);
    expect(thrown).toBe(original);
    // The one connection went back to the pool, usable, with the transaction undone.
    const after = await withTransaction(pool, async (client) => {
      const rows = await client.query<{ pid: number; t: string | null }>("select pg_backend_pid() as pid, to_regclass('rolled_back')::text as t");
      return rows.rows[0]!;
    });
    expect(after).toEqual({ pid, t: null });
  });

  it("keeps both errors when the rollback fails too, and drops the connection", async () => {
    const original = new Error("fn failed");
    let pid = 0;
    const thrown = await withTransaction(pool, async (client) => {
      pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
      // The server ends this session between the failure and the rollback.
      await admin.query("select pg_terminate_backend($1)", [pid]);
      await new Promise((r) => setTimeout(r, 200));
      throw original;
    }).catch((err: unknown) => err);

    expect(thrown).toBeInstanceOf(RollbackFailedError);
    const err = thrown as RollbackFailedError;
    expect(err.cause).toBe(original);
    expect(err.failure).toBe(original);
    expect(err.errors[0]).toBe(original);
    expect(err.errors[1]).toBe(err.rollbackError);
    expect(err.rollbackError.message).toMatch(/terminat|not queryable|connection/i);
    expect(err.message).toBe("fn failed (the rollback failed too)");
    // Classified as the failure of fn, not as the dead connection of the rollback.
    expect(isRetryableError(err)).toBe(false);

    // The pool discarded that client: the next transaction runs on another backend.
    const next = await withTransaction(pool, async (client) => (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid);
    expect(next).not.toBe(pid);
  });

  it("classifies a RollbackFailedError as the failure of fn, whatever the rollback said", () => {
    const deadConnection = new Error("Connection terminated unexpectedly");
    const serialization = Object.assign(new Error("could not serialize access"), { code: "40001" });
    expect(isRetryableError(new RollbackFailedError(serialization, deadConnection))).toBe(true);
    expect(isRetryableError(new RollbackFailedError(new TypeError("bug in fn"), deadConnection))).toBe(false);
  });
});

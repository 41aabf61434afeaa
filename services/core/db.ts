// The Postgres pool and the one transaction helper every repository operation goes through.

import pg from "pg";
import { coerceError } from "./errors.js";

export interface PoolOptions {
  readonly databaseUrl: string;
  /** @default 10 */
  readonly dbPoolSize?: number;
  /** Shown in pg_stat_activity. @default "jobstack" */
  readonly applicationName?: string;
}

export function createPool(config: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.dbPoolSize ?? 10,
    application_name: config.applicationName ?? "jobstack",
    // Fail fast when Postgres is down: callers leave the work for the sweeper/reaper or answer 503.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener
  // Node would crash the process. The next checkout simply gets a fresh connection.
  pool.on("error", () => {});
  return pool;
}

/** Runs `fn` in one transaction; rolls back on any throw and always releases the client. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // pg-pool removes its idle 'error' listener while a client is checked out, and pg emits
  // 'error' when the server goes away, even between two statements of this transaction: with
  // no listener that kills the process (test/reliability/chaos-postgres.test.ts found it). The
  // statement in flight fails on its own; here the connection is only marked unusable.
  const onError = () => {
    broken = true;
  };
  client.on("error", onError);
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (err) {
    try {
      await client.query("rollback");
    } catch (rollbackErr) {
      // The connection is unusable; make the pool discard it rather than hand it out again.
      broken = true;
      void coerceError(rollbackErr);
    }
    throw coerceError(err);
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

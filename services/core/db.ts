// The Postgres pool and the one transaction helper every repository operation goes through.

import pg from "pg";
import { serviceEnvDefault } from "./env-contract.js";
import { coerceError } from "./errors.js";

export interface PoolOptions {
  readonly databaseUrl: string;
  /** @default DB_POOL_SIZE's default (env-contract.ts) */
  readonly dbPoolSize?: number;
  /** Shown in pg_stat_activity. @default "jobstack" */
  readonly applicationName?: string;
  /** How long a checkout may wait for a free client or a new connection. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /**
   * Server-side `statement_timeout` of every session (lock waits included), and 5 s later the
   * client gives up on a server that stopped answering (`query_timeout`). 0 = neither.
   * @default 0 (the api and worker set DB_STATEMENT_TIMEOUT_MS, 30 s; migrations must not be cut short)
   */
  readonly statementTimeoutMs?: number;
}

/** Slack between the server's statement_timeout and the client's own read timeout. */
export const CLIENT_TIMEOUT_SLACK_MS = 5_000;

/**
 * No call waits forever (docs/health-probes.md): a checkout waits at most `connectionTimeoutMs`
 * (pool exhausted or server unreachable: "timeout exceeded when trying to connect"); a statement
 * runs at most `statementTimeoutMs` on the server, which also bounds a wait for a row lock (SQLSTATE
 * 57014, retryable: the transitions hold their locks for milliseconds, so a 30 s wait means
 * something is stuck); and a server that stops answering altogether (frozen, or a black-holed
 * network) is given up `CLIENT_TIMEOUT_SLACK_MS` later by the client ("Query read timeout"), which
 * also drops that connection. TCP keepalive notices a peer that vanished while idle.
 */
export function createPool(config: PoolOptions): pg.Pool {
  const statementTimeout = config.statementTimeoutMs ?? 0;
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.dbPoolSize ?? serviceEnvDefault("DB_POOL_SIZE"),
    application_name: config.applicationName ?? "jobstack",
    // Fail fast when Postgres is down: callers leave the work for the sweeper/reaper or answer 503.
    connectionTimeoutMillis: config.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout, query_timeout: statementTimeout + CLIENT_TIMEOUT_SLACK_MS } : {}),
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener
  // Node would crash the process. The next checkout simply gets a fresh connection.
  pool.on("error", () => {});
  return pool;
}

/**
 * A transaction failed and so did its rollback (typically the connection died). `cause` is the
 * failure that started it all; `errors` holds it and the rollback's error (pino logs both as
 * `aggregateErrors`). The message is the failure's with a fixed note, not the rollback's text:
 * whoever classifies the error (isRetryableError reads the message, then follows `cause`) sees
 * the same failure as when the rollback works.
 */
export class RollbackFailedError extends AggregateError {
  override name = "RollbackFailedError";
  constructor(
    readonly failure: Error,
    readonly rollbackError: Error,
  ) {
    super([failure, rollbackError], `${failure.message} (the rollback failed too)`, { cause: failure });
  }
}

/**
 * Runs `fn` in one transaction; rolls back on any throw and always releases the client. The
 * error `fn` threw is rethrown as it is, or inside a RollbackFailedError when the rollback failed too.
 */
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
    const failure = coerceError(err);
    try {
      await client.query("rollback");
    } catch (rollbackErr) {
      // The connection is unusable; make the pool discard it rather than hand it out again.
      broken = true;
      throw new RollbackFailedError(failure, coerceError(rollbackErr));
    }
    throw failure;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

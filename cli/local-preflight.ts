/**
 * Before `jobstack local` starts anything: can Postgres, Redis and RabbitMQ be reached at the
 * addresses given? Each one that cannot becomes one line naming the variable and the address
 * (never the password), so a wrong `DATABASE_URL` ends with a sentence, not a stack trace.
 */
import amqp from "amqplib";
import { Redis } from "ioredis";
import pg from "pg";
import { coerceError } from "../services/core/errors.js";

export interface Connections {
  readonly DATABASE_URL: string;
  readonly REDIS_URL: string;
  readonly AMQP_URL: string;
}

const TIMEOUT_MS = 5_000;

/** `host:port` of a URL, with the scheme's default port when none is written. */
export function addressOf(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || defaultPort}`;
  } catch {
    return "(not a URL)";
  }
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: TIMEOUT_MS, enableOfflineQueue: false });
  // With retries off, connect() rejects with "Connection is closed."; the socket's own error
  // (ECONNREFUSED, ENOTFOUND, a refused AUTH) arrives on the "error" event first.
  let cause: unknown;
  redis.on("error", (err) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw cause ?? err;
  } finally {
    redis.disconnect();
  }
}

async function checkAmqp(url: string): Promise<void> {
  const conn = await amqp.connect(url, { timeout: TIMEOUT_MS });
  await conn.close();
}

/** One line per dependency that cannot be reached; empty when all answer. */
export async function unreachable(c: Connections): Promise<string[]> {
  const checks = [
    { variable: "DATABASE_URL", what: "Postgres", url: c.DATABASE_URL, port: 5432, run: checkPostgres },
    { variable: "REDIS_URL", what: "Redis", url: c.REDIS_URL, port: 6379, run: checkRedis },
    { variable: "AMQP_URL", what: "RabbitMQ", url: c.AMQP_URL, port: 5672, run: checkAmqp },
  ];
  const results = await Promise.all(
    checks.map(async (check) => {
      try {
        await check.run(check.url);
        return undefined;
      } catch (raw) {
        const reason = reasonOf(raw).replaceAll(check.url, addressOf(check.url, check.port));
        return `cannot reach ${check.what} at ${addressOf(check.url, check.port)} (${check.variable}): ${reason}`;
      }
    }),
  );
  return results.filter((r): r is string => r !== undefined);
}

/** The first line of the error; an AggregateError (one per resolved address) speaks through its first. */
function reasonOf(raw: unknown): string {
  const err = coerceError(raw);
  const inner = err instanceof AggregateError && err.errors.length > 0 ? coerceError(err.errors[0]) : err;
  const code = (inner as { code?: unknown }).code;
  return inner.message.split("\n")[0] || (typeof code === "string" ? code : inner.name);
}

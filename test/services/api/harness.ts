/**
 * Wiring for API tests against the real Postgres, Redis and RabbitMQ of this machine.
 *
 * Each test file gets its own database (`jobstack_test_<random>`, migrated, dropped after),
 * its own queue (`test-<uuid>`, plus its `.dlx`/`.dead` companions, deleted after) and its own
 * Redis key prefix (so "flushing the cache" deletes only this file's keys, never anyone else's).
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import amqp from "amqplib";
import pg from "pg";
import { createRedis, JobCache, waitForRedis } from "../../../services/core/cache.js";
import { createPool } from "../../../services/core/db.js";
import { closeAll } from "../../../services/core/errors.js";
import { JobRepository } from "../../../services/core/jobs/repository.js";
import { createMetrics, type Metrics } from "../../../services/core/metrics.js";
import { JobQueue } from "../../../services/core/queue.js";
import { migrate } from "../../../services/migrations/migrate.js";
import { createHandlerRegistry } from "../../../services/handlers/index.js";
import { buildApp } from "../../../services/api/app.js";
import type { ApiDeps } from "../../../services/api/deps.js";
import { readinessChecks } from "../../../services/core/readiness.js";
import type { FastifyInstance } from "fastify";

import { AMQP_URL, PG_ADMIN_URL, REDIS_URL } from "../../../harness/servers.js";
export { AMQP_URL, PG_ADMIN_URL, REDIS_URL };

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Fails if a connection to the database is still open (a leak), then drops it either way. */
  drop(): Promise<void>;
}

/** A fresh database; migrated unless `migrated: false` (to test code that migrates itself). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `jobstack_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await adminQuery(`create database ${name}`);
  const url = databaseUrl(name);
  if (options.migrated ?? true) await migrate(url);
  return {
    name,
    url,
    async drop() {
      const { rows } = await adminQuery<{ n: string }>(
        "select count(*)::text as n from pg_stat_activity where datname = $1::text",
        [name],
      );
      await adminQuery(`drop database if exists ${name} with (force)`);
      const open = Number(rows[0]?.n ?? 0);
      if (open > 0) throw new Error(`${open} connection(s) to ${name} were left open`);
    },
  };
}

async function adminQuery<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await client.query<R>(sql, params);
  } finally {
    await client.end();
  }
}

export interface TestStack {
  readonly deps: ApiDeps;
  readonly repo: JobRepository;
  readonly cache: JobCache;
  readonly metrics: Metrics;
  readonly pool: pg.Pool;
  readonly queueName: string;
  readonly cachePrefix: string;
  readonly app: FastifyInstance;
  readonly baseUrl: string;
  /** API_TOKEN: submit and read. */
  readonly token: string;
  /** OPERATOR_TOKEN: also retry and cancel. */
  readonly operatorToken: string;
  /** Deletes this stack's cache keys only (SCAN + DEL on its prefix). */
  flushCache(): Promise<number>;
  /** Messages waiting in this stack's queue. */
  queueDepth(): Promise<number>;
  /** Closes the app and every connection, deletes the queue. Safe to call twice. */
  close(): Promise<void>;
}

export interface StackOptions {
  readonly databaseUrl: string;
  /** @default 1024 * 1024 */
  readonly bodyLimit?: number;
  /** @default AMQP_URL (the shared broker) */
  readonly amqpUrl?: string;
  /** Wait for RabbitMQ before listening. @default true */
  readonly waitForQueue?: boolean;
  /** RabbitMQ's management API, for the unacked count. @default none */
  readonly rabbitmqManagementUrl?: string;
  /** How old a system snapshot a /metrics scrape may reuse. @default the app's (15000) */
  readonly metricsMaxAgeMs?: number;
}

/** The API wired to its own database, queue and cache prefix, listening on an ephemeral port. */
export async function startStack(options: StackOptions): Promise<TestStack> {
  const queueName = `test-${randomUUID()}`;
  const cachePrefix = `test-${randomUUID()}:`;
  const token = `token-${randomUUID()}`;
  const operatorToken = `operator-${randomUUID()}`;
  const metrics = createMetrics({ defaultMetrics: false, labels: { service: "api" } });
  const pool = createPool({ databaseUrl: options.databaseUrl, dbPoolSize: 4, applicationName: "jobstack-api-test" });
  const redis = createRedis(REDIS_URL);
  const queue = new JobQueue({
    url: options.amqpUrl ?? AMQP_URL,
    queue: queueName,
    queueType: "classic",
    connectTimeoutMs: 500,
    publishTimeoutMs: 2_000,
  });
  const repo = new JobRepository(pool, { onTransition: (from, to) => metrics.transitions.inc({ from: from ?? "none", to }) });
  const cache = new JobCache(redis, { prefix: cachePrefix });
  const deps: ApiDeps = {
    repo,
    cache,
    queue,
    metrics,
    handlers: createHandlerRegistry(),
    readiness: readinessChecks(pool, redis, queue),
  };
  // The client fails commands (no offline queue) until connected; tests that read "from cache" need it up.
  if (!(await waitForRedis(redis, 10_000))) throw new Error(`Redis at ${REDIS_URL} is not answering`);
  if (options.waitForQueue ?? true) await queue.connect(10_000);
  const app = buildApp(deps, {
    apiToken: token,
    operatorToken,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    readinessTimeoutMs: 500,
    metricsMaxAgeMs: options.metricsMaxAgeMs,
    ...(options.rabbitmqManagementUrl !== undefined && {
      rabbitmqManagement: { url: options.rabbitmqManagementUrl, amqpUrl: options.amqpUrl ?? AMQP_URL },
    }),
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;

  const flushCache = async () => {
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${cachePrefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  };

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      await flushCache().catch(() => undefined);
      await closeAll([
        ["app", () => app.close()],
        ["queue", () => queue.close()],
        ["redis", () => redis.quit()],
        ["pool", () => pool.end()],
        ["rabbitmq topology", () => deleteQueue(queueName)],
      ]);
    })());

  return {
    deps,
    repo,
    cache,
    metrics,
    pool,
    queueName,
    cachePrefix,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    operatorToken,
    flushCache,
    queueDepth: () => withChannel(async (ch) => (await ch.checkQueue(queueName)).messageCount),
    close,
  };
}

async function withChannel<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    return await fn(ch);
  } finally {
    await conn.close();
  }
}

/** Deletes a job queue and the dead-letter exchange and queue that JobQueue declared with it. */
export async function deleteQueue(name: string): Promise<void> {
  await withChannel(async (ch) => {
    await ch.deleteQueue(name);
    await ch.deleteQueue(`${name}.dead`);
    await ch.deleteExchange(`${name}.dlx`);
  });
}

/**
 * True when RabbitMQ knows a queue of that name (passive declare on a throwaway channel). Only the
 * broker's 404 NOT_FOUND means "no such queue"; any other failure (access refused, a dropped
 * connection) is rethrown, so a leak check cannot pass without having asked.
 */
export async function queueExists(name: string): Promise<boolean> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => undefined); // the channel-close event repeats the rejection handled below
    try {
      await ch.checkQueue(name);
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return false;
      throw err;
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Sockets and servers still open in this process (connection-leak check after closing). */
export function openHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap");
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** fetch, returning the parsed JSON body (or null) with the status. */
export async function call<T = any>(url: string, init: RequestInit = {}): Promise<Answer<T>> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export function authed(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } };
}

export function jsonPost(token: string | null, body: unknown): RequestInit {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) };
}

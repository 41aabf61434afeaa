/**
 * Job search at scale: `GET /jobs` pages (and `GET /jobs/stats`) against a table of 1,000,000 jobs.
 *
 *   npm run bench -- --only search [--rows N] [--search-reps N]     (--quick: 100,000 rows, fewer reps)
 *
 * Fills a database of its own with `--rows` jobs (8 types; 90 % COMPLETED, 3 % FAILED, 4 %
 * PENDING, 1 % RUNNING, 2 % CANCELLED; created over 30 days), vacuums and analyzes it as
 * autovacuum would, then times each query through the real api (buildApp on a loopback port,
 * `fetch`, the body read to the end) and, for the pages, the repository's search call alone (one
 * round trip to Postgres): the first page of several filters, a page deep into a
 * filter through its cursor, and the stats. Every query gets warm-up runs, then `--search-reps` timed
 * runs in rotation with the others. Also records each query's plan (EXPLAIN) for the search
 * statement, to show which index it used. Drops the database and the queue afterwards.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { buildApp } from "../services/api/app.js";
import type { ApiDeps } from "../services/api/deps.js";
import { createRedis, JobCache, waitForRedis } from "../services/core/cache.js";
import { createPool } from "../services/core/db.js";
import { closeAll } from "../services/core/errors.js";
import { JobRepository } from "../services/core/jobs/repository.js";
import { searchStatement, type JobFilter, type Keyset } from "../services/core/jobs/search.js";
import { createMetrics } from "../services/core/metrics.js";
import { JobQueue } from "../services/core/queue.js";
import { readinessChecks } from "../services/core/readiness.js";
import { migrate } from "../services/migrations/migrate.js";
import { createHandlerRegistry } from "../services/handlers/index.js";
import { AMQP_URL, PG_ADMIN_URL, REDIS_DB, REDIS_HOST, REDIS_PORT } from "./lib/env.js";
import type { SearchQueryResult, SearchResult } from "./lib/results.js";
import { summarize } from "./lib/stats.js";

export interface SearchOptions {
  readonly rows: number;
  readonly reps: number;
  readonly log?: (line: string) => void;
}

export function searchOptionsFromArgs(quick: boolean, argv: readonly string[] = process.argv): SearchOptions {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  return { rows: arg("--rows") ?? (quick ? 100_000 : 1_000_000), reps: arg("--search-reps") ?? (quick ? 10 : 40) };
}

const TYPES = ["noop", "sleep", "hash", "email", "report", "thumbnail", "webhook", "export"];

/** $1 first row number, $2 last → inserts those jobs (see the header for the mix). */
const FILL = `
insert into jobs (id, type, state, payload, attempts, max_attempts, created_at, updated_at, run_after)
select gen_random_uuid(), (array['${TYPES.join("','")}'])[1 + (i % ${TYPES.length})],
  case when r < 0.90 then 'COMPLETED' when r < 0.93 then 'FAILED' when r < 0.97 then 'PENDING'
       when r < 0.98 then 'RUNNING' else 'CANCELLED' end,
  '{}'::jsonb, 1, 3, ts, ts, ts
from (select i, random() as r, now() - random() * interval '30 days' as ts
      from generate_series($1::integer, $2::integer) as i) g`;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runSearchBench(options: SearchOptions): Promise<SearchResult> {
  const log = options.log ?? (() => undefined);
  const run = randomBytes(5).toString("hex");
  const database = `jobstack_bench_search_${run}`;
  const queueName = `bench-search-${run}`;
  await admin(`create database ${database}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  const pool = createPool({ databaseUrl: url.toString(), dbPoolSize: 4, applicationName: "jobstack-bench-search" });
  const redis = createRedis(`redis://${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}`);
  const queue = new JobQueue({ url: AMQP_URL, queue: queueName, queueType: "classic" });
  const token = randomBytes(24).toString("base64url");
  let app: ReturnType<typeof buildApp> | null = null;
  try {
    await migrate(url.toString());
    log(`search: filling ${options.rows.toLocaleString("en-US")} jobs`);
    const t0 = performance.now();
    const chunk = 100_000;
    for (let first = 1; first <= options.rows; first += chunk) {
      await pool.query(FILL, [first, Math.min(options.rows, first + chunk - 1)]);
    }
    await pool.query("vacuum (analyze) jobs");
    const fillMs = performance.now() - t0;
    const sizes = await pool.query<{ name: string; bytes: string }>(
      `select c.relname as name, pg_relation_size(c.oid)::text as bytes from pg_class c
       where c.relname = 'jobs' or c.oid in (select indexrelid from pg_index where indrelid = 'jobs'::regclass)`,
    );
    const mib = (b: string) => Math.round((Number(b) / 1024 / 1024) * 10) / 10;
    const tableMiB = mib(sizes.rows.find((r) => r.name === "jobs")!.bytes);
    const indexMiB = Object.fromEntries(sizes.rows.filter((r) => r.name !== "jobs").map((r) => [r.name, mib(r.bytes)]));
    log(`search: filled in ${(fillMs / 1000).toFixed(1)} s; table ${tableMiB} MiB`);

    await waitForRedis(redis, 5_000);
    await queue.connect(10_000);
    const repo = new JobRepository(pool);
    const deps: ApiDeps = {
      repo,
      cache: new JobCache(redis, { prefix: `bench-search-${run}:` }),
      queue,
      metrics: createMetrics({ defaultMetrics: false }),
      handlers: createHandlerRegistry(),
      readiness: readinessChecks(pool, redis, queue),
    };
    app = buildApp(deps, { apiToken: token });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const get = async (path: string) => {
      const start = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { items?: unknown[]; nextCursor?: string | null };
      const ms = performance.now() - start;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      return { ms, body };
    };

    // A page deep into FAILED: follow the cursor 20 pages in, then time that page.
    let deepCursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      deepCursor = (await get(`/jobs?state=FAILED${deepCursor ? `&cursor=${encodeURIComponent(deepCursor)}` : ""}`)).body.nextCursor ?? null;
    }
    const deepKeyset = (await repo.search({ states: ["FAILED"] }, null, 20 * 50)).next;
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
    const window = { type: "email", createdAfter: day(11), createdBefore: day(10) };
    const queries: { name: string; path: string; search?: { filter: JobFilter; after: Keyset | null; limit: number } }[] = [
      { name: "state=FAILED, first page (50)", path: "/jobs?state=FAILED", search: { filter: { states: ["FAILED"] }, after: null, limit: 50 } },
      {
        name: "state=FAILED&type=email",
        path: "/jobs?state=FAILED&type=email",
        search: { filter: { states: ["FAILED"], type: "email" }, after: null, limit: 50 },
      },
      {
        name: "state=PENDING,RUNNING",
        path: "/jobs?state=PENDING,RUNNING",
        search: { filter: { states: ["PENDING", "RUNNING"] }, after: null, limit: 50 },
      },
      {
        name: "state=FAILED, page 21 (cursor)",
        path: `/jobs?state=FAILED&cursor=${encodeURIComponent(deepCursor!)}`,
        search: { filter: { states: ["FAILED"] }, after: deepKeyset, limit: 50 },
      },
      {
        name: "type=email, a 1-day window 10 days ago",
        path: `/jobs?type=email&createdAfter=${window.createdAfter}&createdBefore=${window.createdBefore}`,
        search: { filter: window, after: null, limit: 50 },
      },
      { name: "no filter, limit=500", path: "/jobs?limit=500", search: { filter: {}, after: null, limit: 500 } },
      { name: "GET /jobs/stats (counts + queue)", path: "/jobs/stats" },
    ];
    const httpSamples = queries.map(() => [] as number[]);
    const dbSamples = queries.map(() => [] as number[]);
    const items = queries.map(() => 0);
    for (let round = -3; round < options.reps; round++) {
      for (let i = 0; i < queries.length; i++) {
        const j = (i + Math.max(0, round)) % queries.length; // rotate the order each round
        const q = queries[j]!;
        const { ms, body } = await get(q.path);
        items[j] = Array.isArray(body.items) ? body.items.length : 0;
        if (round >= 0) httpSamples[j]!.push(ms);
        if (q.search) {
          const start = performance.now();
          await repo.search(q.search.filter, q.search.after, q.search.limit);
          if (round >= 0) dbSamples[j]!.push(performance.now() - start);
        }
      }
    }
    const results: SearchQueryResult[] = [];
    for (const [i, q] of queries.entries()) {
      let plan: string[] | undefined;
      if (q.search) {
        const { text, values } = searchStatement(q.search.filter, q.search.after, q.search.limit);
        const explained = await pool.query<{ "QUERY PLAN": string }>(`explain (analyze, costs off, timing off, summary on) ${text}`, values);
        plan = explained.rows.map((r) => r["QUERY PLAN"]);
      }
      const s = summarize(httpSamples[i]!);
      const db = dbSamples[i]!.length > 0 ? summarize(dbSamples[i]!) : undefined;
      results.push({
        name: q.name,
        path: q.path,
        items: items[i]!,
        samplesMs: httpSamples[i]!,
        ms: s,
        p95Ms: percentile(httpSamples[i]!, 95),
        ...(db && { dbSamplesMs: dbSamples[i]!, dbMs: db }),
        ...(plan && { plan }),
      });
      log(`search: ${q.name}: HTTP median ${s.median.toFixed(2)} ms, p95 ${percentile(httpSamples[i]!, 95).toFixed(2)} ms; query ${db ? `${db.median.toFixed(2)} ms` : "–"} (${items[i]} items)`);
    }
    return { rows: options.rows, fillMs, tableMiB, indexMiB, queries: results };
  } finally {
    await closeAll([
      ["app", async () => void (await app?.close())],
      ["queue", () => queue.close()],
      ["redis", () => redis.quit().then(() => undefined)],
      ["pool", () => pool.end()],
      [
        "queue topology",
        async () => {
          const amqp = (await import("amqplib")).default;
          const conn = await amqp.connect(AMQP_URL);
          try {
            const ch = await conn.createChannel();
            await ch.deleteQueue(queueName);
            await ch.deleteQueue(`${queueName}.dead`);
            await ch.deleteExchange(`${queueName}.dlx`);
          } finally {
            await conn.close();
          }
        },
      ],
      ["database", () => admin(`drop database if exists ${database} with (force)`)],
    ]);
  }
}

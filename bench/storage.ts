/**
 * Storage per job and the cost of deleting it (docs/storage.md): `npm run bench -- --only storage`
 * or `npx tsx bench/storage.ts [--jobs N]`.
 *
 * Builds two identical databases of N jobs, each submitted, claimed and completed through the
 * repository (3 audit rows per job, a 100-byte payload and a small result), vacuumed, then
 *   bytes per job   jobs heap + its indexes, audit partitions + their indexes, over N
 *   delete rows     A: retention batches (500 jobs a statement) that also delete each batch's
 *                   audit rows (what an unpartitioned audit table needs)
 *   drop partition  B: retention batches that delete only the jobs, then the audit partition is
 *                   dropped whole (what jobstack does)
 * Timings are wall time on this machine, Postgres shared with whatever else runs.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { createPool } from "../services/core/db.js";
import { JobRepository } from "../services/core/jobs/repository.js";
import { JobRetention } from "../services/core/jobs/retention.js";
import { deleteExpiredJobs } from "../services/core/jobs/retention-queries.js";
import { migrate } from "../services/migrations/migrate.js";
import { PG_ADMIN_URL } from "./lib/env.js";
import { pooled } from "./lib/pool.js";
import type { StorageResult } from "./lib/results.js";

const PAYLOAD = { to: "someone@example.com", template: "welcome", locale: "en-GB", vars: { name: "Ada Lovelace", plan: "pro" } };

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function withDataset<T>(jobs: number, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const name = `jobstack_bench_storage_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await admin(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const pool = createPool({ databaseUrl: url.toString(), dbPoolSize: 8 });
  try {
    await migrate(pool);
    // One day-long audit partition holds every job of the run.
    await new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } }).maintainPartitions();
    const repo = new JobRepository(pool);
    await pooled(jobs, 32, async () => {
      const { job } = await repo.submit({ type: "email", payload: PAYLOAD });
      const c = await repo.claim(job.id, "bench", 60_000);
      if (!c.ok) throw new Error(c.message);
      await repo.complete(job.id, c.job.claim, "bench", { sent: true, messageId: "0123456789abcdef" });
    });
    await pool.query("vacuum analyze jobs");
    await pool.query("vacuum analyze job_transitions");
    return await fn(pool);
  } finally {
    await pool.end();
    await admin(`drop database if exists ${name} with (force)`);
  }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Deletes every job (they are all COMPLETED) in batches of 500; `alsoAudit` deletes their audit rows in the same statement. */
async function deleteAll(pool: pg.Pool, alsoAudit: boolean): Promise<void> {
  // A data-modifying WITH must be at the top level, so the audit variant spells the batch out.
  const sql = alsoAudit
    ? `with doomed as (
         select id from jobs where state = $1::text and updated_at < now() - $2::integer * interval '1 second'
         order by updated_at limit $3::integer for update skip locked),
       gone as (delete from jobs j using doomed d where j.id = d.id returning j.id)
       delete from job_transitions t using gone g where t.job_id = g.id`
    : deleteExpiredJobs;
  for (;;) {
    const r = await pool.query(sql, ["COMPLETED", 0, 500]);
    if (!alsoAudit && (r.rowCount ?? 0) < 500) break;
    if (alsoAudit) {
      const left = await pool.query<{ n: number }>("select count(*)::integer as n from jobs");
      if (left.rows[0]!.n === 0) break;
    }
  }
}

export async function runStorageBench(opts: { jobs: number; log?: (line: string) => void }): Promise<StorageResult> {
  const log = opts.log ?? (() => undefined);
  log(`storage: ${opts.jobs} jobs per dataset`);
  const sizes = await withDataset(opts.jobs, async (pool) => {
    const { rows } = await pool.query<{ jobs: string; audit: string }>(`
      select pg_total_relation_size('jobs') as jobs,
             (select sum(pg_total_relation_size(inhrelid)) from pg_inherits where inhparent = 'job_transitions'::regclass) as audit`);
    const jobsTable = Number(rows[0]!.jobs) / opts.jobs;
    const audit = Number(rows[0]!.audit) / opts.jobs;
    const deleteRowsMs = await timed(() => deleteAll(pool, true));
    return { jobsTable, audit, deleteRowsMs };
  });
  const drop = await withDataset(opts.jobs, async (pool) => {
    const jobs = await timed(() => deleteAll(pool, false));
    const retention = new JobRetention(pool, { window: { completed: 1, failed: 1, cancelled: 1 } });
    const parts = await retention.partitions();
    const dropMs = await timed(async () => {
      for (const p of parts) if (p.fromMs !== null) await pool.query(`drop table ${p.name}`);
    });
    return { jobs, drop: dropMs, total: jobs + dropMs };
  });
  const result: StorageResult = {
    jobs: opts.jobs,
    payloadBytes: JSON.stringify(PAYLOAD).length,
    bytesPerJob: { jobsTable: Math.round(sizes.jobsTable), audit: Math.round(sizes.audit), total: Math.round(sizes.jobsTable + sizes.audit) },
    deleteRowsMs: Math.round(sizes.deleteRowsMs),
    deleteJobsThenDropMs: { jobs: Math.round(drop.jobs), drop: Math.round(drop.drop), total: Math.round(drop.total) },
  };
  log(`storage: ${JSON.stringify(result)}`);
  return result;
}

/** The Markdown section of bench/results/README.md; empty without a result. */
export function renderStorage(stored: { quick: boolean; result: StorageResult } | null): string {
  if (!stored) return "";
  const r = stored.result;
  const ratio = (r.deleteRowsMs / r.deleteJobsThenDropMs.total).toFixed(1);
  return [
    "",
    "## Storage per job and the cost of deleting it (`bench/storage.ts`)",
    "",
    `${r.jobs} jobs per dataset${stored.quick ? " (--quick)" : ""}, each submitted, claimed and completed (3 audit rows, ${r.payloadBytes}-byte payload), vacuumed.`,
    "",
    "| measure | value |",
    "|---|---:|",
    `| jobs row + indexes, bytes a job | ${r.bytesPerJob.jobsTable} |`,
    `| audit rows + index, bytes a job | ${r.bytesPerJob.audit} |`,
    `| total, bytes a job | ${r.bytesPerJob.total} |`,
    `| delete jobs and their audit rows in batches of 500 | ${r.deleteRowsMs} ms |`,
    `| delete jobs in batches of 500, then drop the audit partition | ${r.deleteJobsThenDropMs.jobs} + ${r.deleteJobsThenDropMs.drop} = ${r.deleteJobsThenDropMs.total} ms |`,
    `| row deletion / drop partition | ${ratio}× |`,
    "",
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const i = process.argv.indexOf("--jobs");
  const jobs = i >= 0 ? Number(process.argv[i + 1]) : 20_000;
  runStorageBench({ jobs, log: console.log }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

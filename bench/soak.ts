/**
 * `npm run soak`: bounded storage under a steady load (docs/storage.md). Not part of `npm test`.
 *
 *   npm run soak                                   # 11 minutes at 25 jobs/s, retention 15 s
 *   npm run soak -- --minutes 2 --rate 20 --retention 10
 *
 * Starts one api and one worker on a database of its own with retention set to seconds and
 * audit partitions of a few seconds, submits jobs over HTTP at a steady rate (9 in 10 `noop`,
 * 1 in 10 a permanent `fail`), and prints every 30 s the row counts, the partitions and the
 * database size: with retention running they level off. At the end it stops submitting, waits
 * until nothing is PENDING or RUNNING, and checks that every job the api accepted (202) is either
 * still in Postgres in a final state, or gone after being accepted at least `retention` seconds
 * earlier; and that accepted = final-and-retained + deleted by retention (the worker's
 * jobstack_retention_deleted_total), so none was lost on the way. Exit code 1 when a check fails.
 * The table is written to bench/results/soak.md. Everything it creates is removed at exit.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import amqp from "amqplib";
import pg from "pg";
import { migrate } from "../services/migrations/migrate.js";
import { AMQP_URL, freePort, PG_ADMIN_URL, REDIS_DB, REDIS_HOST, REDIS_PORT, ROOT, sleep, spawnTsx, stopAllChildren, waitFor } from "./lib/env.js";

function arg(flag: string, dflt: number): number {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const MINUTES = arg("--minutes", 11);
const RATE = arg("--rate", 25);
const RETENTION_S = arg("--retention", 15);
const SAMPLE_MS = arg("--sample", 30) * 1000;

interface Sample {
  readonly t: number;
  readonly accepted: number;
  readonly jobs: number;
  readonly final: number;
  readonly audit: number;
  readonly partitions: number;
  readonly jobsBytes: number;
  readonly auditBytes: number;
  readonly dbBytes: number;
}

const mib = (b: number) => (b / 1048576).toFixed(1);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function main(): Promise<number> {
  const id = randomUUID().replaceAll("-", "").slice(0, 12);
  const database = `jobstack_soak_${id}`;
  const queue = `jobstack-soak-${id}`;
  const token = randomUUID();
  await admin(`create database ${database}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  const dbUrl = url.toString();
  const db = new pg.Client({ connectionString: dbUrl });
  let failed = false;
  try {
    await migrate(dbUrl);
    await db.connect();
    const port = await freePort();
    const healthPort = await freePort();
    const env = {
      DATABASE_URL: dbUrl,
      REDIS_URL: `redis://${REDIS_HOST}:${REDIS_PORT}/${REDIS_DB}`,
      AMQP_URL,
      JOB_QUEUE: queue,
      CACHE_PREFIX: `jobstack-soak-${id}:`,
      LOG_LEVEL: "warn",
      RETENTION_COMPLETED_SECONDS: String(RETENTION_S),
      RETENTION_FAILED_SECONDS: String(RETENTION_S * 2),
      RETENTION_CANCELLED_SECONDS: String(RETENTION_S),
      RETENTION_INTERVAL_MS: "2000",
      RETENTION_PARTITION_SECONDS: String(Math.max(2, Math.round(RETENTION_S / 2))),
    };
    const api = spawnTsx("soak api", "services/api/main.ts", [], { ...env, PORT: String(port), API_TOKEN: token });
    const worker = spawnTsx("soak worker", "services/worker/main.ts", [], { ...env, HEALTH_PORT: String(healthPort), WORKER_ID: "soak-worker" });
    const base = `http://127.0.0.1:${port}`;
    await waitFor("the api", async () => {
      if (api.process.exitCode !== null) throw new Error(api.output());
      return (await fetch(`${base}/readyz`).catch(() => null))?.ok ?? false;
    }, 90_000, 200);
    await waitFor("the worker", async () => {
      if (worker.process.exitCode !== null) throw new Error(worker.output());
      return (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => null))?.ok ?? false;
    }, 90_000, 200);

    const accepted = new Map<string, number>(); // id → accepted at (ms)
    let refused = 0;
    const samples: Sample[] = [];
    const t0 = Date.now();
    const sample = async () => {
      const { rows } = await db.query<{ jobs: number; final: number; audit: number; partitions: number; jb: string; ab: string; dbb: string }>(`
        select (select count(*) from jobs)::integer as jobs,
               (select count(*) from jobs where state in ('COMPLETED','FAILED','CANCELLED'))::integer as final,
               (select count(*) from job_transitions)::integer as audit,
               (select count(*) from pg_inherits where inhparent = 'job_transitions'::regclass)::integer as partitions,
               pg_total_relation_size('jobs') as jb,
               (select coalesce(sum(pg_total_relation_size(inhrelid)), 0) from pg_inherits where inhparent = 'job_transitions'::regclass) as ab,
               pg_database_size(current_database()) as dbb`);
      const r = rows[0]!;
      const s: Sample = {
        t: Math.round((Date.now() - t0) / 1000),
        accepted: accepted.size,
        jobs: r.jobs,
        final: r.final,
        audit: r.audit,
        partitions: r.partitions,
        jobsBytes: Number(r.jb),
        auditBytes: Number(r.ab),
        dbBytes: Number(r.dbb),
      };
      samples.push(s);
      console.log(
        `t=${String(s.t).padStart(4)}s accepted=${s.accepted} jobs=${s.jobs} (final ${s.final}) audit=${s.audit} partitions=${s.partitions} ` +
          `jobs ${mib(s.jobsBytes)} MiB, audit ${mib(s.auditBytes)} MiB, database ${mib(s.dbBytes)} MiB`,
      );
    };
    // Deleted rows are reclaimed by (auto)vacuum. A server with autovacuum off (this machine's
    // shared one) would grow regardless of retention, so the soak then vacuums as autovacuum
    // would, every 20 s; with autovacuum on it leaves the job to the server.
    const autovacuum = (await db.query<{ autovacuum: string }>("show autovacuum")).rows[0]!.autovacuum === "on";
    const vacuumer = autovacuum ? null : setInterval(() => void db.query("vacuum (analyze) jobs, job_transitions").catch((e) => console.error(e)), 20_000);
    await sample();
    const sampler = setInterval(() => void sample().catch((e) => console.error(e)), SAMPLE_MS);

    // Steady submission: one tick every 100 ms submits RATE/10 jobs (fractions carried over).
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const end = t0 + MINUTES * 60_000;
    let due = 0;
    let n = 0;
    const inflight = new Set<Promise<void>>();
    while (Date.now() < end) {
      due += RATE / 10;
      while (due >= 1) {
        due -= 1;
        const k = n++;
        const body = k % 10 === 9 ? { type: "fail", payload: { message: "soak", retryable: false } } : { type: "noop", payload: {} };
        const p = fetch(`${base}/jobs`, { method: "POST", headers, body: JSON.stringify(body) })
          .then(async (res) => {
            const j = (await res.json()) as { id?: string };
            if (res.status === 202 && j.id) accepted.set(j.id, Date.now());
            else refused++;
          })
          .catch(() => void refused++)
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(100);
    }
    await Promise.all(inflight);
    clearInterval(sampler);
    if (vacuumer) clearInterval(vacuumer);
    await waitFor("every job to be final", async () => {
      const { rows } = await db.query<{ n: number }>("select count(*)::integer as n from jobs where state in ('PENDING','RUNNING')");
      return rows[0]!.n === 0;
    }, 120_000, 500);
    const checkedAt = Date.now();
    await sample();

    // Every accepted job: final and retained, or gone after at least its retention.
    const ids = [...accepted.keys()];
    const present = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 5000) {
      const { rows } = await db.query<{ id: string; state: string }>("select id, state from jobs where id = any($1::uuid[])", [ids.slice(i, i + 5000)]);
      for (const r of rows) present.set(r.id, r.state);
    }
    const notFinal = [...present.values()].filter((s) => !["COMPLETED", "FAILED", "CANCELLED"].includes(s)).length;
    const goneTooEarly = ids.filter((i) => !present.has(i) && checkedAt - accepted.get(i)! < RETENTION_S * 1000).length;
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    const deleted = [...metrics.matchAll(/^jobstack_retention_deleted_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    const gone = ids.length - present.size;

    const lines = [
      `# Soak (${new Date().toISOString()})`,
      "",
      `${MINUTES} min at ${RATE} jobs/s over HTTP (9 in 10 noop, 1 in 10 a permanent failure), one api and one worker;`,
      `retention: completed ${RETENTION_S} s, failed ${RETENTION_S * 2} s; audit partitions of ${env.RETENTION_PARTITION_SECONDS} s; retention pass every 2 s; ` +
        (autovacuum ? "autovacuum on." : "autovacuum is off on this server, so the soak runs VACUUM every 20 s as autovacuum would."),
      "",
      "| t (s) | accepted | jobs rows | of them final | audit rows | audit partitions | jobs MiB | audit MiB | database MiB |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...samples.map((s) => `| ${s.t} | ${s.accepted} | ${s.jobs} | ${s.final} | ${s.audit} | ${s.partitions} | ${mib(s.jobsBytes)} | ${mib(s.auditBytes)} | ${mib(s.dbBytes)} |`),
      "",
      `accepted ${ids.length} (refused ${refused}); still in Postgres ${present.size}, of them not final ${notFinal}; ` +
        `gone ${gone}, of them before their retention ${goneTooEarly}; deleted by retention (worker metric) ${deleted}.`,
    ];
    const checks = [
      [notFinal === 0, "every job still present is final"],
      [goneTooEarly === 0, "no job went before its retention"],
      [present.size + deleted === ids.length, "accepted = retained + deleted by retention (none lost)"],
      [refused === 0, "the api accepted every submission"],
    ] as const;
    for (const [ok, what] of checks) {
      lines.push(`- ${ok ? "ok" : "FAILED"}: ${what}`);
      if (!ok) failed = true;
    }
    const report = `${lines.join("\n")}\n`;
    writeFileSync(path.join(ROOT, "bench/results/soak.md"), report);
    console.log(`\n${report}`);
  } finally {
    await stopAllChildren(10_000);
    await db.end().catch(() => undefined);
    await admin(`drop database if exists ${database} with (force)`).catch((e) => console.error(e));
    const conn = await amqp.connect(AMQP_URL);
    const ch = await conn.createChannel();
    for (const q of [queue, `${queue}.dead`]) await ch.deleteQueue(q).catch(() => undefined);
    await ch.deleteExchange(`${queue}.dlx`).catch(() => undefined);
    await conn.close().catch(() => undefined);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await stopAllChildren(2_000);
    process.exit(1);
  },
);

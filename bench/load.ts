/**
 * `npm run load`: a steady-rate load run against the real api and two worker processes on this
 * machine's shared Postgres, Redis and RabbitMQ (own database, queue and key prefix, removed
 * afterwards). Not part of `npm test`: it takes a minute and measures, it does not assert.
 *
 *   npm run load                          # 60 s at 100 submissions/s, 4 status pollers
 *   npm run load -- --seconds 30 --rate 200 --pollers 8
 *
 * Submissions are open-loop (one every 1/rate s, whether or not the previous one answered), so a
 * slow api shows up as latency instead of silently lowering the rate. Pollers read the status of
 * random accepted jobs back to back. At the end it waits for every job to finish and prints
 * p50/p99 latency of submissions and reads, the error count (any non-2xx or failed request), how
 * many jobs completed, and the RSS of the workers and the api.
 */
import { parseArgs } from "node:util";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, REDIS_URL } from "../harness/jobstack.js";
import { dropWhenIdle, startCluster } from "../harness/cluster.js";
import { waitForFinal } from "../harness/checker.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    rate: { type: "string", default: "100" },
    pollers: { type: "string", default: "4" },
    type: { type: "string", default: "noop" },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const POLLERS = Number(values.pollers);
for (const [name, v] of Object.entries({ seconds: SECONDS, rate: RATE, pollers: POLLERS })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (v: number) => (Number.isNaN(v) ? "–" : `${v.toFixed(1)} ms`);
const mib = (b: number | null) => (b === null ? "gone" : `${(b / 2 ** 20).toFixed(0)} MiB`);

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const cluster = await startCluster({
    databaseUrl: db.url,
    redisUrl: REDIS_URL,
    amqpUrl: AMQP_URL,
    apiEnv: { LOG_LEVEL: "warn" },
  }).catch(async (err) => {
    await dropWhenIdle(db).catch(() => undefined);
    throw err;
  });
  const headers = { authorization: `Bearer ${cluster.token}`, "content-type": "application/json" };
  const submitMs: number[] = [];
  const readMs: number[] = [];
  const errors = new Map<string, number>();
  const error = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
  const accepted: string[] = [];
  let inFlight = 0;

  const submitOne = async () => {
    inFlight++;
    const t0 = performance.now();
    try {
      const r = await fetch(`${cluster.apiUrl}/jobs`, { method: "POST", headers, body: JSON.stringify({ type: values.type, payload: {} }), signal: AbortSignal.timeout(30_000) });
      const body = (await r.json()) as { id?: string };
      submitMs.push(performance.now() - t0);
      if (r.status === 202 && body.id) accepted.push(body.id);
      else error(`POST /jobs ${r.status}`);
    } catch (err) {
      error(`POST /jobs ${(err as Error).name}`);
    } finally {
      inFlight--;
    }
  };

  const started = performance.now();
  const end = started + SECONDS * 1000;
  let running = true;
  const pollers = Array.from({ length: POLLERS }, async () => {
    while (running) {
      const id = accepted[Math.floor(Math.random() * accepted.length)];
      if (!id) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const t0 = performance.now();
      try {
        const r = await fetch(`${cluster.apiUrl}/jobs/${id}`, { headers, signal: AbortSignal.timeout(30_000) });
        await r.arrayBuffer();
        readMs.push(performance.now() - t0);
        if (r.status !== 200) error(`GET /jobs/:id ${r.status}`);
      } catch (err) {
        error(`GET /jobs/:id ${(err as Error).name}`);
      }
    }
  });

  // Open loop: the n-th submission starts at started + n / rate, on time or late, never skipped.
  const pending: Promise<void>[] = [];
  let sent = 0;
  let maxInFlight = 0;
  while (performance.now() < end) {
    const due = started + (sent * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(submitOne());
    sent++;
    maxInFlight = Math.max(maxInFlight, inFlight);
  }
  await Promise.all(pending);
  const submitSeconds = (performance.now() - started) / 1000;
  const drainStart = performance.now();
  const drained = await waitForFinal(cluster.pool, accepted, 120_000);
  const drainSeconds = (performance.now() - drainStart) / 1000;
  running = false;
  await Promise.all(pollers);

  const { rows } = await cluster.pool.query<{ state: string; n: number }>("select state, count(*)::integer as n from jobs group by state order by state");
  const workerRss = cluster.workers.map((w) => w.rss());
  const apiRss = cluster.api.rss();
  submitMs.sort((a, b) => a - b);
  readMs.sort((a, b) => a - b);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);

  const lines = [
    `load: ${SECONDS} s at ${RATE} submissions/s (${values.type}), ${POLLERS} status pollers; api + ${cluster.workers.length} workers`,
    `  submitted ${sent} in ${submitSeconds.toFixed(1)} s (${(sent / submitSeconds).toFixed(0)}/s), most in flight ${maxInFlight}`,
    `  POST /jobs      p50 ${ms(percentile(submitMs, 50))}  p99 ${ms(percentile(submitMs, 99))}  max ${ms(submitMs.at(-1) ?? NaN)}  (${submitMs.length} answers)`,
    `  GET /jobs/:id   p50 ${ms(percentile(readMs, 50))}  p99 ${ms(percentile(readMs, 99))}  max ${ms(readMs.at(-1) ?? NaN)}  (${readMs.length} reads)`,
    `  errors ${errorCount}${errors.size ? ` (${[...errors.entries()].map(([k, v]) => `${k} ×${v}`).join(", ")})` : ""}`,
    `  jobs ${rows.map((r) => `${r.state} ${r.n}`).join(", ")}; ${drained ? `all finished ${drainSeconds.toFixed(1)} s after the last submission` : "NOT all finished within 120 s"}`,
    `  RSS at the end: workers ${workerRss.map(mib).join(", ")}; api ${mib(apiRss)}`,
  ];
  console.log(lines.join("\n"));
  console.log(
    JSON.stringify({
      seconds: SECONDS,
      rate: RATE,
      pollers: POLLERS,
      submitted: sent,
      submitP50Ms: percentile(submitMs, 50),
      submitP99Ms: percentile(submitMs, 99),
      readP50Ms: percentile(readMs, 50),
      readP99Ms: percentile(readMs, 99),
      reads: readMs.length,
      errors: errorCount,
      drained,
      drainSeconds,
      workerRssBytes: workerRss,
      apiRssBytes: apiRss,
    }),
  );

  await cluster.stop();
  await deleteQueueTopology(cluster.queue);
  await dropWhenIdle(db);
  process.exit(errorCount === 0 && drained ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * A probe of the jobstack api alone: one deployment (api + 2 workers, as in bench/jobs.ts), then
 * the latency and rate of a few requests at 1 and at 32 in flight, from a keep-alive pool:
 * `GET /healthz` (HTTP alone), `POST /jobs` with an unknown type (parsing, auth, validation, a
 * 400), `GET /jobs/:id` of a missing job (cache miss, one query, a 404), and a real submission;
 * then the latency of `GET /jobs/:id` (warm cache) while submissions keep the api and the workers
 * busy, and while the workers drain a backlog at full speed with the api taking only the reads.
 * With BENCH_CPU_PROF=<dir> each process also writes its CPU profile (bench/lib/env.ts):
 *
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/probe-http.ts
 *   npx tsx bench/lib/profile-top.ts /tmp/prof/jobstack-api/<largest file> 20 --from-ms 3000
 */
import { Pool } from "undici";
import { Jobstack } from "./jobs/systems.js";
import { sleep, stopAllChildren } from "./lib/env.js";
import { pooled } from "./lib/pool.js";
/** Jobs submitted while the workers are paused, and how long the reads go on while they drain. */
const BACKLOG = 10_000;
const DRAIN_READ_MS = 8_000;
const READ_EVERY_MS = 10;

/** "N reads, p50 … ms, p99 … ms, max … ms" of latencies in ms. */
function latencies(ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
  return `${sorted.length} reads, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
}

const js = new Jobstack({ workers: 2, concurrency: 8 });
await js.setup();
const j = js as unknown as { port: number; token: string };
const http = new Pool(`http://127.0.0.1:${j.port}`, { connections: 64 });
const headers = { authorization: `Bearer ${j.token}`, "content-type": "application/json" };
try {
  for (const [label, method, path, body] of [
    ["healthz", "GET", "/healthz", undefined],
    ["bad type (400, no I/O)", "POST", "/jobs", JSON.stringify({ type: "nope" })],
    ["get missing job (cache miss + pg)", "GET", "/jobs/0190d6b2-7a3e-7c3d-9f7e-123456789abc", undefined],
    ["submit", "POST", "/jobs", JSON.stringify({ type: "noop", payload: {} })],
  ] as const) {
    for (const inFlight of [1, 32]) {
      const n = inFlight === 1 ? 200 : 1000;
      const t0 = performance.now();
      await pooled(n, inFlight, async () => {
        const r = await http.request({ method, path, headers, ...(body ? { body } : {}) });
        await r.body.text();
      });
      const ms = performance.now() - t0;
      console.log(`${label} inFlight=${inFlight}: ${((ms / n) * inFlight).toFixed(2)} ms per call, ${((n / ms) * 1000).toFixed(0)}/s`);
    }
  }
  // GET /jobs/:id of one job (its cache entry warm) while 3,000 submissions at 32 in flight keep
  // the workers at full speed: the status read's latency under load (issue 12's p99 target).
  const res = await http.request({ method: "POST", path: "/jobs", headers, body: JSON.stringify({ type: "noop", payload: {} }) });
  const { id } = (await res.body.json()) as { id: string };
  await (await http.request({ method: "GET", path: `/jobs/${id}`, headers })).body.text();
  let loading = true;
  const load = pooled(3000, 32, async () => {
    const r = await http.request({ method: "POST", path: "/jobs", headers, body: JSON.stringify({ type: "noop", payload: {} }) });
    await r.body.text();
  }).finally(() => (loading = false));
  const reads: number[] = [];
  const sources = new Map<string, number>();
  while (loading) {
    const t0 = performance.now();
    const r = await http.request({ method: "GET", path: `/jobs/${id}`, headers });
    await r.body.text();
    reads.push(performance.now() - t0);
    const source = String(r.headers["x-jobstack-source"]);
    sources.set(source, (sources.get(source) ?? 0) + 1);
  }
  await load;
  console.log(`GET /jobs/:id under submissions: ${latencies(reads)}; from ${[...sources].map(([k, v]) => `${k} ${v}`).join(", ")}`);

  // GET /jobs/:id of the same job while the workers drain a backlog at full speed and the api
  // takes nothing but the reads (issue 12's wording: "while the workers run at full speed"). The
  // workers are paused (SIGSTOP) while the backlog is submitted, so the drain starts at once
  // with every worker busy; the drain rate printed beside the latencies shows they were.
  js.signalWorkers("SIGSTOP");
  try {
    const batch = JSON.stringify({ jobs: Array.from({ length: 1000 }, () => ({ type: "noop", payload: {} })) });
    await pooled(BACKLOG / 1000, 2, async () => {
      const r = await http.request({ method: "POST", path: "/jobs/batch", headers, body: batch });
      await r.body.text();
      if (r.statusCode !== 202) throw new Error(`POST /jobs/batch answered ${r.statusCode}`);
    });
  } finally {
    js.signalWorkers("SIGCONT");
  }
  const before = (await js.countByState()).COMPLETED ?? 0;
  const drainReads: number[] = [];
  const t0 = performance.now();
  // Paced like a dashboard or a client polling its jobs (one read every READ_EVERY_MS), not a
  // tight loop: a loop of reads would be a load test of its own and take CPU from the workers.
  for (let next = t0; performance.now() - t0 < DRAIN_READ_MS; next += READ_EVERY_MS) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const r0 = performance.now();
    const r = await http.request({ method: "GET", path: `/jobs/${id}`, headers });
    await r.body.text();
    drainReads.push(performance.now() - r0);
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await js.countByState();
  const drained = (after.COMPLETED ?? 0) - before;
  console.log(
    `GET /jobs/:id while the workers drain a backlog: ${latencies(drainReads)}; ` +
      `${Math.round(drained / seconds)} jobs/s completed meanwhile, ${after.PENDING ?? 0} still pending at the end`,
  );
  // Let the rest drain before the teardown, so every process stops within its grace period (and
  // writes its CPU profile under BENCH_CPU_PROF).
  for (let waited = 0; ((await js.countByState()).PENDING ?? 0) > 0 && waited < 60_000; waited += 250) await sleep(250);
} finally {
  await http.close();
  await js.teardown();
  await stopAllChildren();
}

/**
 * A probe of the jobstack api alone: one deployment (api + 2 workers, as in bench/jobs.ts), then
 * the latency and rate of a few requests at 1 and at 32 in flight, from a keep-alive pool:
 * `GET /healthz` (HTTP alone), `POST /jobs` with an unknown type (parsing, auth, validation, a
 * 400), `GET /jobs/:id` of a missing job (cache miss, one query, a 404), and a real submission;
 * then the latency of `GET /jobs/:id` (warm cache) while submissions keep the workers busy.
 * With BENCH_CPU_PROF=<dir> each process also writes its CPU profile (bench/lib/env.ts):
 *
 *   BENCH_CPU_PROF=/tmp/prof npx tsx bench/probe-http.ts
 *   npx tsx bench/lib/profile-top.ts /tmp/prof/jobstack-api/<largest file> 20 --from-ms 3000
 */
import { Pool } from "undici";
import { Jobstack } from "./jobs/systems.js";
import { stopAllChildren } from "./lib/env.js";
import { pooled } from "./lib/pool.js";
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
  reads.sort((a, b) => a - b);
  const q = (p: number) => reads[Math.min(reads.length - 1, Math.floor(p * reads.length))]!.toFixed(2);
  console.log(`GET /jobs/:id under load: ${reads.length} reads, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; from ${[...sources].map(([k, v]) => `${k} ${v}`).join(", ")}`);
} finally {
  await http.close();
  await js.teardown();
  await stopAllChildren();
}

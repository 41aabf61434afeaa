/**
 * A probe of the jobstack api alone: one deployment (api + 2 workers, as in bench/jobs.ts), then
 * the latency and rate of a few requests at 1 and at 32 in flight, from a keep-alive pool:
 * `GET /healthz` (HTTP alone), `POST /jobs` with an unknown type (parsing, auth, validation, a
 * 400), `GET /jobs/:id` of a missing job (cache miss, one query, a 404), and a real submission.
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
} finally {
  await http.close();
  await js.teardown();
  await stopAllChildren();
}

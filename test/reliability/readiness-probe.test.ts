/**
 * The probes Kubernetes would run, asked of the real processes while each dependency is down.
 *
 * The paths and ports come from the synthesized prod stack (not from a constant in this test), and
 * the api and a worker run as real processes against throwaway Postgres, Redis and RabbitMQ, each
 * killed and restarted in turn (docs/health-probes.md):
 * - api readiness follows Postgres (and its schema) only: a Redis or RabbitMQ outage keeps it in
 *   the Service, still serving reads and accepting jobs;
 * - worker readiness fails at once without RabbitMQ;
 * - liveness fails only after DEPENDENCY_LIVENESS_LIMIT_MS (3 s here) of a required dependency's
 *   outage, never for one the process can work without.
 */
import { randomUUID } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../services/migrations/migrate.js";
import { PORTS } from "../../stacks/topology.js";
import { prod, synthEnvironment, workloads, type Json } from "../stacks/kubernetes/support.js";
import { ROOT, eventually, killAllWorkers, sleep, spawnWorker, testQueueName, workerEnv, type WorkerProcess } from "../../harness/jobstack.js";
import { spareport } from "../../harness/ports.js";
import { startPostgres, startRabbitMQ, startRedis, type Throwaway } from "../support/throwaway.js";

const LIMIT_MS = 3_000;

interface Probe {
  readonly path: string;
  readonly port: number;
}

/** The liveness and readiness probes of a container of the synthesized prod stack. */
function probesOf(json: Json, container: string): { liveness: Probe; readiness: Probe } {
  const c = workloads(json)
    .flatMap((w) => w.pod.container as Json[])
    .find((x) => x.name === container);
  const probe = (p: Json): Probe => ({ path: p.http_get.path, port: Number(p.http_get.port) });
  return { liveness: probe(c.liveness_probe), readiness: probe(c.readiness_probe) };
}

const synthesized = synthEnvironment(prod().env);
const apiProbes = probesOf(synthesized, "api");
const workerProbes = probesOf(synthesized, "worker");

let postgres: Throwaway;
let redis: Throwaway;
let rabbit: Throwaway;
let api: ChildProcess;
let apiOutput = "";
let apiPort: number;
let worker: WorkerProcess;
let workerPort: number;
const token = randomUUID();
const queue = testQueueName();

interface Answer {
  status: number;
  body: Json;
}

async function ask(port: number, path: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json().catch(() => null) };
}
const askApi = (probe: Probe) => ask(apiPort, probe.path);
const askWorker = (probe: Probe) => ask(workerPort, probe.path);
const submit = () =>
  ask(apiPort, "/jobs", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ type: "noop" }) });

beforeAll(async () => {
  [postgres, redis, rabbit] = await Promise.all([startPostgres(), startRedis(), startRabbitMQ()]);
  await migrate(postgres.url);
  const env = { DATABASE_URL: postgres.url, REDIS_URL: redis.url, AMQP_URL: rabbit.url, JOB_QUEUE: queue, DEPENDENCY_LIVENESS_LIMIT_MS: String(LIMIT_MS) };
  apiPort = await spareport();
  api = spawn(process.execPath, ["--import", "tsx", "services/api/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, API_TOKEN: token, PORT: String(apiPort), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  api.stdout!.on("data", (d) => (apiOutput = (apiOutput + d).slice(-20_000)));
  api.stderr!.on("data", (d) => (apiOutput = (apiOutput + d).slice(-20_000)));
  workerPort = await spareport();
  worker = spawnWorker(workerEnv({ url: postgres.url }, queue, { ...env, HEALTH_PORT: String(workerPort), HOST: "127.0.0.1" }));
  await eventually("api ready", async () => (await askApi(apiProbes.readiness).catch(() => null))?.status === 200, 60_000);
  await eventually("worker ready", async () => (await askWorker(workerProbes.readiness).catch(() => null))?.status === 200, 60_000);
}, 240_000);

afterAll(async () => {
  if (api && api.exitCode === null) {
    api.kill("SIGTERM");
    await new Promise((r) => api.once("exit", r));
  }
  await killAllWorkers();
  await Promise.all([postgres?.stop(), redis?.stop(), rabbit?.stop()]);
}, 120_000);

describe("the synthesized probes", () => {
  it("point the api at /readyz and /healthz on its port, the worker at its own /readyz and /healthz", () => {
    expect(apiProbes).toEqual({ liveness: { path: "/healthz", port: PORTS.api }, readiness: { path: "/readyz", port: PORTS.api } });
    expect(workerProbes).toEqual({ liveness: { path: "/healthz", port: PORTS.workerHealth }, readiness: { path: "/readyz", port: PORTS.workerHealth } });
  });
});

describe("what those probes answer while a dependency is down", () => {
  it("Redis down: the api stays ready and serves; nobody fails liveness", { timeout: 120_000 }, async () => {
    const { body: job } = await submit();
    await redis.kill();
    const ready = await askApi(apiProbes.readiness);
    expect(ready.status, apiOutput).toBe(200);
    expect(ready.body.dependencies.redis.ok).toBe(false);
    expect((await submit()).status).toBe(202);
    expect((await ask(apiPort, `/jobs/${job.id}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200); // from Postgres
    expect((await askWorker(workerProbes.readiness)).status).toBe(200);
    await sleep(LIMIT_MS + 2_000); // longer than the liveness limit
    expect((await askApi(apiProbes.liveness)).status).toBe(200);
    expect((await askWorker(workerProbes.liveness)).status).toBe(200);

    await redis.restart!();
    await eventually("redis reported back", async () => (await askApi(apiProbes.readiness)).body.dependencies.redis.ok === true, 30_000);
  });

  it("RabbitMQ down: the api stays ready and accepts jobs; the worker is unready at once, then fails liveness", { timeout: 180_000 }, async () => {
    await rabbit.kill();
    await eventually("worker unready", async () => (await askWorker(workerProbes.readiness)).status === 503, 30_000);
    const ready = await askApi(apiProbes.readiness);
    expect(ready.status).toBe(200);
    expect(ready.body.dependencies.rabbitmq.ok).toBe(false);
    expect((await submit()).status).toBe(202); // committed PENDING, swept once the broker is back
    const dead = await eventually("worker liveness fails after the limit", async () => {
      const a = await askWorker(workerProbes.liveness);
      return a.status === 503 ? a : null;
    }, 60_000);
    expect(dead.body.failing.rabbitmq.downForMs).toBeGreaterThan(LIMIT_MS);
    expect((await askApi(apiProbes.liveness)).status).toBe(200); // the api can work without it

    await rabbit.restart!();
    await eventually("worker ready again", async () => (await askWorker(workerProbes.readiness)).status === 200, 120_000);
    expect((await askWorker(workerProbes.liveness)).status).toBe(200);
    await eventually("api reports the broker back", async () => (await askApi(apiProbes.readiness)).body.dependencies.rabbitmq.ok === true, 60_000);
  });

  it("Postgres down: the api is unready at once, and fails liveness after the limit", { timeout: 180_000 }, async () => {
    await postgres.kill();
    const notReady = await eventually("api unready", async () => {
      const a = await askApi(apiProbes.readiness);
      return a.status === 503 ? a : null;
    }, 30_000);
    expect(notReady.body.dependencies.postgres.ok).toBe(false);
    expect(notReady.body.required).toEqual(["postgres", "schema"]);
    const dead = await eventually("api liveness fails after the limit", async () => {
      const a = await askApi(apiProbes.liveness);
      return a.status === 503 ? a : null;
    }, 60_000);
    expect(Object.keys(dead.body.failing)).toEqual(["postgres"]);
    expect((await submit()).status).toBe(503); // never a 2xx for a job it could not store

    await postgres.restart!();
    await eventually("api ready again", async () => (await askApi(apiProbes.readiness)).status === 200, 60_000);
    await eventually("api live again", async () => (await askApi(apiProbes.liveness)).status === 200, 30_000);
    expect((await submit()).status).toBe(202);
  });
});

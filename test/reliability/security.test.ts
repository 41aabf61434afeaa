/**
 * Security properties of the real api and worker processes:
 * - every route under /jobs (found by registering the app, so a new route is covered without
 *   editing this file) refuses a request without the right bearer token, for each method;
 * - tokens and passwords never appear in any log line, at debug level, through start-up, bad
 *   tokens, dependency outages and a refused configuration;
 * - SQL metacharacters in every string field are stored and returned verbatim;
 * - a worker acks and drops a message whose job id does not exist, and logs that it did.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../services/api/app.js";
import type { ApiDeps } from "../../services/api/deps.js";
import { createMetrics } from "../../services/core/metrics.js";
import { JobQueue } from "../../services/core/queue.js";
import { uuidv7 } from "../../services/core/uuid.js";
import { AMQP_URL, createTestDatabase, deleteQueueTopology, eventually, RECORD_HANDLER_MODULE, ROOT, sleep, type TestDatabase } from "../../harness/jobstack.js";
import { spareport } from "../../harness/ports.js";
import { startRedis, type Throwaway } from "../support/throwaway.js";
import { dropWhenIdle, startCluster, type Cluster } from "../../harness/cluster.js";
import { startService, waitHealthy, type ServiceProcess } from "../../harness/services.js";

const secret = (label: string) => `${label}${randomBytes(12).toString("hex")}`;
const PG_PASSWORD = secret("pgpw");
const REDIS_PASSWORD = secret("redispw");
const AMQP_PASSWORD = secret("amqppw");
const WRONG_TOKEN = secret("wrongtoken");
const ECHO_MODULE = path.join(ROOT, "test/reliability/support/echo-handler.ts");
const MODULES = `${RECORD_HANDLER_MODULE},${ECHO_MODULE}`;

let db: TestDatabase;
let redis: Throwaway;
let cluster: Cluster;
const extra: ServiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startRedis({ args: ["--requirepass", REDIS_PASSWORD] });
  // Trust authentication ignores the password, so it can ride along in the URL and show up
  // wherever the URL would be logged.
  const databaseUrl = db.url.replace("postgres://postgres@", `postgres://postgres:${PG_PASSWORD}@`);
  cluster = await startCluster({
    databaseUrl,
    redisUrl: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
    amqpUrl: AMQP_URL,
    apiEnv: { LOG_LEVEL: "debug", JOB_HANDLER_MODULES: MODULES },
    workerEnv: { LOG_LEVEL: "debug", JOB_HANDLER_MODULES: MODULES },
  });
}, 180_000);
afterAll(async () => {
  for (const p of extra) p.kill("SIGKILL");
  await cluster?.stop();
  if (cluster) await deleteQueueTopology(cluster.queue);
  await redis?.stop();
  await dropWhenIdle(db);
});

async function call(method: string, url: string, headers: Record<string, string>, body?: unknown) {
  const r = await fetch(`${cluster.apiUrl}${url}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: (text ? JSON.parse(text) : null) as Record<string, any> | null };
}
const auth = () => ({ authorization: `Bearer ${cluster.token}` });

/** Every method + path the app registers, read from the app itself. */
async function registeredRoutes(): Promise<Array<{ method: string; url: string }>> {
  const app = buildApp({ metrics: createMetrics({ defaultMetrics: false }) } as ApiDeps, { apiToken: "x".repeat(16) });
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
  await app.ready();
  await app.close();
  return routes;
}

describe("authentication", () => {
  it("every route under /jobs, with every method it has, refuses a request without the right token", async () => {
    const { json: job } = await call("POST", "/jobs", auth(), { type: "noop" });
    const routes = (await registeredRoutes()).filter((r) => r.url === "/jobs" || r.url.startsWith("/jobs/"));
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(["POST /jobs", "GET /jobs/:id", "GET /jobs/:id/transitions", "POST /jobs/:id/cancel", "POST /jobs/:id/retry"]),
    );
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: "" },
      { authorization: "Bearer" },
      { authorization: `Bearer ${WRONG_TOKEN}` },
      { authorization: `Bearer ${cluster.token}x` },
      { authorization: `Bearer ${cluster.token.slice(0, -1)}` },
      { authorization: cluster.token },
      { authorization: `Basic ${Buffer.from(`user:${cluster.token}`).toString("base64")}` },
      { authorization: `Token ${cluster.token}` },
      { "x-api-token": cluster.token },
    ];
    const seen: string[] = [];
    for (const { method, url } of routes) {
      const target = url.replace(":id", job!.id as string);
      for (const headers of wrong) {
        const body = method === "POST" || method === "PUT" || method === "PATCH" ? { type: "noop" } : undefined;
        const r = await call(method, target, headers, body);
        seen.push(`${method} ${url} ${JSON.stringify(Object.keys(headers))} → ${r.status}`);
        expect(r.status, `${method} ${target} with ${JSON.stringify(headers)}`).toBe(401);
        if (method !== "HEAD") expect(r.json?.error?.code).toBe("unauthorized");
      }
    }
    expect(seen.length).toBe(routes.length * wrong.length);
    // Nothing those requests asked for happened: the job was not cancelled, no job was added.
    expect((await call("GET", `/jobs/${job!.id}/transitions`, auth())).json!.filter((t: { to: string }) => t.to === "CANCELLED")).toEqual([]);
    const { rows } = await cluster.pool.query<{ n: number }>("select count(*)::integer as n from jobs");
    expect(rows[0]!.n).toBe(1);
  });
});

const SQL_META = [
  "'; drop table jobs; --",
  "\" or \"1\"=\"1",
  "' or '1'='1' --",
  "x'); delete from job_transitions; --",
  "$1 $2::text $$dollar$$",
  "%_\\%\\_",
  "\\'\\\\'",
  "/* comment */ -- line",
  "`backtick` ; select pg_sleep(10);",
  "E'\\x41' U&'\\0041'",
  ":name ? @p",
];

describe("SQL metacharacters", () => {
  it("are stored and returned verbatim in every string field", { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    for (const [i, meta] of SQL_META.entries()) {
      const payload = { [meta]: meta, list: [meta, { nested: meta }] };
      const key = `${meta}#${i}`;
      const first = await call("POST", "/jobs", auth(), { type: "echo", payload, idempotencyKey: key, maxAttempts: 5 });
      expect(first.status, meta).toBe(202);
      // The key matched byte for byte: the same request again is a replay of the same job.
      const again = await call("POST", "/jobs", auth(), { type: "echo", payload, idempotencyKey: key, maxAttempts: 5 });
      expect(again.status).toBe(202);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.json!.id).toBe(first.json!.id);
      ids.push(first.json!.id);

      const failing = await call("POST", "/jobs", auth(), { type: "fail", payload: { message: meta } });
      expect(failing.status).toBe(202);
      ids.push(failing.json!.id);

      // A type is a handler name: metacharacters there are an unknown type, quoted back as sent.
      const badType = await call("POST", "/jobs", auth(), { type: meta });
      expect(badType.status).toBe(400);
      expect(badType.json!.error.message).toContain(`"${meta}"`);
    }
    for (const [n, meta] of SQL_META.entries()) {
      const echoId = ids[2 * n]!;
      const failId = ids[2 * n + 1]!;
      const echoed = await eventually(`echo job ${echoId}`, async () => {
        const r = await call("GET", `/jobs/${echoId}`, auth());
        return r.json?.state === "COMPLETED" ? r.json : null;
      }, 60_000);
      expect(echoed.result).toEqual({ [meta]: meta, list: [meta, { nested: meta }] });
      const failed = await eventually(`fail job ${failId}`, async () => {
        const r = await call("GET", `/jobs/${failId}`, auth());
        return r.json?.state === "FAILED" ? r.json : null;
      }, 60_000);
      expect(failed.error).toMatchObject({ message: meta });
      const stored = await cluster.pool.query<{ payload: unknown; idempotency_key: string }>("select payload, idempotency_key from jobs where id = $1::uuid", [echoId]);
      expect(stored.rows[0]).toEqual({ payload: { [meta]: meta, list: [meta, { nested: meta }] }, idempotency_key: `${meta}#${n}` });
    }
    // And nothing was executed: both tables are whole.
    const { rows } = await cluster.pool.query<{ jobs: number; transitions: number }>(
      "select (select count(*)::integer from jobs) as jobs, (select count(*)::integer from job_transitions) as transitions",
    );
    expect(rows[0]!.jobs).toBeGreaterThanOrEqual(2 * SQL_META.length);
    expect(rows[0]!.transitions).toBeGreaterThanOrEqual(3 * 2 * SQL_META.length);
  });
});

describe("a message for a job that does not exist", () => {
  it("is acked and dropped by the worker, and logged", { timeout: 60_000 }, async () => {
    const q = new JobQueue({ url: AMQP_URL, queue: cluster.queue });
    await q.connect();
    try {
      const ghost = uuidv7();
      await q.publish(ghost);
      const line = await eventually("a worker logs the unknown job", async () =>
        cluster.allWorkers.flatMap((w) => w.lines).find((l) => l.includes(ghost) && l.includes("message for an unknown job dropped")),
      30_000);
      expect(JSON.parse(line)).toMatchObject({ level: 40, jobId: ghost });
      await eventually("the message is gone (acked, not dead-lettered)", async () => {
        const d = await q.depth();
        return d.ready === 0 && d.dead === 0;
      }, 10_000);
      const { rows } = await cluster.pool.query("select id from jobs where id = $1::uuid", [ghost]);
      expect(rows).toEqual([]);
    } finally {
      await q.close();
    }
  });
});

describe("secrets in logs", () => {
  it("no token or password appears in any log line of any process", { timeout: 120_000 }, async () => {
    // Paths that log: wrong tokens, a Redis outage seen by api and workers, jobs that fail.
    await call("GET", `/jobs/${uuidv7()}`, { authorization: `Bearer ${WRONG_TOKEN}` });
    await call("POST", "/jobs", { authorization: `Bearer ${WRONG_TOKEN}` }, { type: "noop" });
    await redis.kill();
    for (let i = 0; i < 5; i++) await call("POST", "/jobs", auth(), { type: "fail", payload: { message: "boom", retryable: true }, maxAttempts: 2 });
    await sleep(1_500);
    await redis.restart!();
    await eventually("cache errors were logged", async () => [cluster.api, ...cluster.allWorkers].some((p) => p.lines.some((l) => /dependency error/.test(l))), 20_000);

    // An api whose broker refuses the password, and one whose configuration is refused.
    const amqpPort = await spareport();
    const port = await spareport();
    const brokerless = startService("api", {
      ...cluster.commonEnv(),
      API_TOKEN: cluster.token,
      PORT: String(port),
      LOG_LEVEL: "debug",
      AMQP_URL: `amqp://jobstack:${AMQP_PASSWORD}@127.0.0.1:${amqpPort}`,
    });
    extra.push(brokerless);
    await waitHealthy(brokerless, port);
    await sleep(1_000);
    brokerless.kill("SIGTERM");
    await brokerless.exited;
    const refused = startService("api", {
      ...cluster.commonEnv(),
      API_TOKEN: cluster.token,
      DATABASE_URL: `mysql://root:${PG_PASSWORD}@db/x`,
      REDIS_URL: `http://:${REDIS_PASSWORD}@cache`,
      AMQP_URL: `amqp://jobstack:${AMQP_PASSWORD}@[broker`,
    });
    extra.push(refused);
    expect(await refused.exited).toBe(2);
    expect(refused.lines.join("\n")).toMatch(/DATABASE_URL/);

    const processes = [cluster.api, ...cluster.allWorkers, brokerless, refused];
    const lines = processes.flatMap((p) => p.lines.map((l) => `${p.kind} ${p.pid}: ${l}`));
    expect(lines.length).toBeGreaterThan(20);
    const secrets = { API_TOKEN: cluster.token, PG_PASSWORD, REDIS_PASSWORD, AMQP_PASSWORD, WRONG_TOKEN, "guest password in a URL": ":guest@" };
    const leaks = Object.entries(secrets).flatMap(([name, value]) => lines.filter((l) => l.includes(value)).map((l) => `${name} in ${l.slice(0, 300)}`));
    console.log(`[security] scanned ${lines.length} log lines of ${processes.length} processes for ${Object.keys(secrets).length} secrets: ${leaks.length} leaks`);
    expect(leaks).toEqual([]);
  });
});

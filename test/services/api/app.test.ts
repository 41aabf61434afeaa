/**
 * The HTTP API against the real Postgres, Redis and RabbitMQ: auth, validation, submit with
 * idempotency, cancel and retry, reads from cache and from Postgres, health and metrics.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../../harness/ports.js";
import {
  authed,
  call,
  createTestDatabase,
  jsonPost,
  openHandles,
  queueExists,
  startStack,
  type TestDatabase,
  type TestStack,
} from "./harness.js";

let db: TestDatabase;
let stack: TestStack;
const BODY_LIMIT = 4096;

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack({ databaseUrl: db.url, bodyLimit: BODY_LIMIT });
});

afterAll(async () => {
  const queueName = stack?.queueName;
  await stack?.close();
  await db?.drop();
  // Nothing of this file may outlive it: no queue, no socket (client keep-alives close once the
  // server is gone, hence the wait), no connection to the dropped database (checked by drop()).
  if (queueName) expect(await queueExists(queueName)).toBe(false);
  await waitUntil("sockets closed", async () => openHandles().length === 0, 10_000, () => openHandles().join(", "));
});

const url = (path: string) => `${stack.baseUrl}${path}`;
const submit = (body: unknown, token: string | null = stack.token) => call(url("/jobs"), jsonPost(token, body));
/** Cancel and retry need the operator's token (the submit token's 403 is in operate.test.ts). */
const post = (path: string) => call(url(path), authed(stack.operatorToken, { method: "POST" }));
const get = (path: string) => call(url(path), authed(stack.token));

/** Moves a job to RUNNING the way a worker does (claim with a lease). */
async function claim(id: string) {
  const outcome = await stack.repo.claim(id, "test-worker", 60_000);
  if (!outcome.ok) throw new Error(`claim failed: ${outcome.message}`);
  return outcome.job;
}

function expectErrorShape(body: any, code: string) {
  expect(body).toEqual({ error: { code, message: expect.any(String), details: expect.anything() } });
  expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack frames
}

describe("authentication on /jobs*", () => {
  it("answers 401 without a bearer token, with a wrong one, and with another scheme", async () => {
    const missing = await submit({ type: "noop" }, null);
    expect(missing.status).toBe(401);
    expectErrorShape(missing.body, "unauthorized");
    expect((await submit({ type: "noop" }, `${stack.token}x`)).status).toBe(401);
    const basic = await call(url("/jobs"), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${stack.token}` },
      body: "{}",
    });
    expect(basic.status).toBe(401);
    expect((await call(url("/jobs/0190a6d0-0000-7000-8000-000000000000"))).status).toBe(401);
    expect((await call(url("/jobs/0190a6d0-0000-7000-8000-000000000000/cancel"), { method: "POST" })).status).toBe(401);
  });

  it("rejects before reading anything: no job is created without the token", async () => {
    const before = await stack.pool.query("select count(*)::int as n from jobs");
    await submit({ type: "noop", idempotencyKey: "unauthenticated" }, null);
    const after = await stack.pool.query("select count(*)::int as n from jobs");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("leaves /healthz, /readyz and /metrics open for probes and scrapers", async () => {
    expect((await call(url("/healthz"))).status).toBe(200);
    expect((await call(url("/readyz"))).status).toBe(200);
    expect((await call(url("/metrics"))).status).toBe(200);
  });
});

describe("request validation", () => {
  it("400 names the body field: missing type, wrong maxAttempts, unknown field", async () => {
    const noType = await submit({ payload: {} });
    expect(noType.status).toBe(400);
    expectErrorShape(noType.body, "bad_request");
    expect(noType.body.error.details).toEqual([expect.objectContaining({ part: "body", path: "type" })]);

    const attempts = await submit({ type: "noop", maxAttempts: 0 });
    expect(attempts.status).toBe(400);
    expect(attempts.body.error.details).toEqual([expect.objectContaining({ part: "body", path: "maxAttempts" })]);

    const extra = await submit({ type: "noop", priority: 5 });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details[0]).toMatchObject({ part: "body", path: "priority" });

    const notObject = await submit([1, 2]);
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.details[0]).toMatchObject({ part: "body" });
  });

  it("400 for a type no handler is registered for, listing the known ones", async () => {
    const res = await submit({ type: "launch-missiles" });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, "unknown_job_type");
    // The registry's message, the one every caller of HandlerRegistry.validate gets.
    expect(res.body.error.message).toMatch(/^no handler is registered for job type "launch-missiles" \(known: .*noop/);
    expect(res.body.error.details[0]).toMatchObject({ part: "body", path: "type" });
    expect(res.body.error.details[0].allowed).toEqual(expect.arrayContaining(["noop", "sleep", "fail"]));
  });

  it("400 for a payload the handler would refuse to run, naming the field", async () => {
    const res = await submit({ type: "sleep", payload: { ms: "soon" } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ part: "body", path: "payload.ms" });
    expect(res.body.error.message).toMatch(/^invalid payload for job type "sleep": payload\.ms: .*number/);
  });

  it("400 for a job id that is not a UUID, naming the path parameter", async () => {
    for (const path of ["/jobs/42", "/jobs/not-a-uuid/transitions", "/jobs/xyz/cancel", "/jobs/xyz/retry"]) {
      const res = path.endsWith("cancel") || path.endsWith("retry") ? await post(path) : await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.details[0], path).toMatchObject({ part: "params", path: "id" });
    }
  });

  it("400 for malformed JSON, and the process keeps serving", async () => {
    const res = await submit('{"type": "noop",');
    expect(res.status).toBe(400);
    expectErrorShape(res.body, "bad_request");
    const empty = await call(url("/jobs"), { ...jsonPost(stack.token, ""), body: "" });
    expect(empty.status).toBe(400);
    expect((await call(url("/healthz"))).status).toBe(200);
  });

  it("survives bytes that are not HTTP at all", async () => {
    const { port } = new URL(stack.baseUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => socket.end("\x00\x01GARBAGE /// HTTP/9\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await call(url("/healthz"))).status).toBe(200);
  });

  it("413 for a body over the limit", async () => {
    const res = await submit({ type: "noop", payload: { blob: "x".repeat(BODY_LIMIT * 2) } });
    expect(res.status).toBe(413);
    expectErrorShape(res.body, "payload_too_large");
  });

  it("415 for a body that is not JSON", async () => {
    for (const type of ["text/plain", "application/xml", "application/x-www-form-urlencoded"]) {
      const res = await call(url("/jobs"), authed(stack.token, { method: "POST", headers: { "content-type": type }, body: "type=noop" }));
      expect(res.status, type).toBe(415);
      expectErrorShape(res.body, "unsupported_media_type");
      expect(res.body.error.details).toMatchObject({ part: "headers", path: "content-type" });
    }
  });

  it("404 in the error shape for an unknown job and an unknown route", async () => {
    const id = "0190a6d0-0000-7000-8000-000000000000";
    for (const path of [`/jobs/${id}`, `/jobs/${id}/transitions`]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expectErrorShape(res.body, "not_found");
    }
    expect((await post(`/jobs/${id}/cancel`)).status).toBe(404);
    expect((await post(`/jobs/${id}/retry`)).status).toBe(404);
    const route = await call(url("/nowhere"));
    expect(route.status).toBe(404);
    expectErrorShape(route.body, "not_found");
  });
});

describe("POST /jobs", () => {
  it("202 with a PENDING job that is committed, published once and marked dispatched", async () => {
    const depth = await stack.queueDepth();
    const res = await submit({ type: "noop", payload: { hello: "world" }, maxAttempts: 5 });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: "noop",
      state: "PENDING",
      attempts: 0,
      maxAttempts: 5,
      result: null,
      error: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    await stack.repo.flushDispatchMarks(); // the mark is written in the background after the confirm
    const row = await stack.pool.query("select state, dispatched_at from jobs where id = $1::uuid", [res.body.id]);
    expect(row.rows[0].state).toBe("PENDING");
    expect(row.rows[0].dispatched_at).not.toBeNull();
    expect(await stack.queueDepth()).toBe(depth + 1);
    const log = await get(`/jobs/${res.body.id}/transitions`);
    expect(log.body).toEqual([expect.objectContaining({ from: null, to: "PENDING", attempt: 0 })]);
  });

  it("the same idempotencyKey twice returns the first job: one row, one message", async () => {
    const depth = await stack.queueDepth();
    const body = { type: "noop", idempotencyKey: "order-1234" };
    const first = await submit(body);
    const second = await submit(body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    const rows = await stack.pool.query("select count(*)::int as n from jobs where idempotency_key = $1::text", ["order-1234"]);
    expect(rows.rows[0].n).toBe(1);
    const audit = await stack.pool.query("select count(*)::int as n from job_transitions where job_id = $1::uuid", [first.body.id]);
    expect(audit.rows[0].n).toBe(1);
    expect(await stack.queueDepth()).toBe(depth + 1);
  });

  it("refuses a reused idempotencyKey with a different request, naming what differs", async () => {
    const first = await submit({ type: "sleep", payload: { ms: 5 }, idempotencyKey: "reuse-1" });
    expect(first.status).toBe(202);
    const same = await submit({ type: "sleep", payload: { ms: 5 }, idempotencyKey: "reuse-1" });
    expect(same.status).toBe(202);
    const other = await submit({ type: "sleep", payload: { ms: 6 }, maxAttempts: 7, idempotencyKey: "reuse-1" });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(other.body.error.details.map((d: { path: string }) => d.path)).toEqual(["payload", "maxAttempts"]);
    const rows = await stack.pool.query("select count(*)::int as n from jobs where idempotency_key = $1::text", ["reuse-1"]);
    expect(rows.rows[0].n).toBe(1);
  });

  it("concurrent submissions with one key still make one job", async () => {
    const body = { type: "noop", idempotencyKey: "burst-key" };
    const answers = await Promise.all(Array.from({ length: 10 }, () => submit(body)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const rows = await stack.pool.query("select count(*)::int as n from jobs where idempotency_key = $1::text", ["burst-key"]);
    expect(rows.rows[0].n).toBe(1);
  });
});

describe("GET /jobs/:id", () => {
  it("answers from Redis, and from Postgres after the cache is flushed (then refills it), with the payload", async () => {
    const payload = { ms: 5, note: "kept as given" };
    const { body: job } = await submit({ type: "sleep", payload });
    expect(job.payload).toBeUndefined(); // the submit answer, like lists, leaves it out
    const cached = await get(`/jobs/${job.id}`);
    expect(cached.status).toBe(200);
    expect(cached.headers.get("x-jobstack-source")).toBe("cache");
    expect(cached.body).toEqual({ ...job, payload });

    expect(await stack.flushCache()).toBeGreaterThan(0);
    const fromDb = await get(`/jobs/${job.id}`);
    expect(fromDb.status).toBe(200);
    expect(fromDb.headers.get("x-jobstack-source")).toBe("postgres");
    expect(fromDb.body).toEqual({ ...job, payload });

    expect((await get(`/jobs/${job.id}`)).headers.get("x-jobstack-source")).toBe("cache");
  });

  it("shows the state Postgres has even when the cache missed a write", async () => {
    const { body: job } = await submit({ type: "noop" });
    await claim(job.id); // a worker's write the API's cache never saw
    await stack.flushCache();
    const res = await get(`/jobs/${job.id}`);
    expect(res.body.state).toBe("RUNNING");
    expect(res.body.attempts).toBe(1);
  });
});

describe("POST /jobs/:id/cancel", () => {
  it("200 for a PENDING job, now CANCELLED everywhere and audited; a second cancel is 409", async () => {
    const { body: job } = await submit({ type: "noop" });
    const res = await post(`/jobs/${job.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe("CANCELLED");
    expect((await get(`/jobs/${job.id}`)).body.state).toBe("CANCELLED");
    await stack.flushCache();
    expect((await get(`/jobs/${job.id}`)).body.state).toBe("CANCELLED");
    const log = (await get(`/jobs/${job.id}/transitions`)).body;
    expect(log.map((t: any) => [t.from, t.to])).toEqual([
      [null, "PENDING"],
      ["PENDING", "CANCELLED"],
    ]);
    expect(log[0].seq).toBeLessThan(log[1].seq);

    const again = await post(`/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expectErrorShape(again.body, "conflict");
    expect(again.body.error.details.state).toBe("CANCELLED");
  });

  it("409 for a RUNNING job, which stays RUNNING", async () => {
    const { body: job } = await submit({ type: "noop" });
    await claim(job.id);
    const res = await post(`/jobs/${job.id}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ state: "RUNNING", required: "PENDING" });
    const row = await stack.repo.get(job.id);
    expect(row?.state).toBe("RUNNING");
  });
});

describe("POST /jobs/:id/retry", () => {
  it("200 for a FAILED job: PENDING again, attempts reset, audited as a manual retry, republished", async () => {
    const { body: job } = await submit({ type: "fail", payload: { message: "boom" }, maxAttempts: 1 });
    const running = await claim(job.id);
    const failed = await stack.repo.fail(job.id, running.claim, "test-worker", { error: new Error("boom"), retryable: false });
    expect(failed.ok).toBe(true);
    const depth = await stack.queueDepth();

    const res = await post(`/jobs/${job.id}/retry`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: job.id, state: "PENDING", attempts: 0, error: null });
    expect(await stack.queueDepth()).toBe(depth + 1);
    await stack.repo.flushDispatchMarks();
    const row = await stack.pool.query("select dispatched_at from jobs where id = $1::uuid", [job.id]);
    expect(row.rows[0].dispatched_at).not.toBeNull();
    const log = (await get(`/jobs/${job.id}/transitions`)).body;
    expect(log.map((t: any) => `${t.from}->${t.to}`)).toEqual(["null->PENDING", "PENDING->RUNNING", "RUNNING->FAILED", "FAILED->PENDING"]);
    expect(log[3].reason).toMatch(/manual retry/);
  });

  it("409 for PENDING, RUNNING, COMPLETED and CANCELLED jobs, which keep their state", async () => {
    const pending = (await submit({ type: "noop" })).body;
    const running = (await submit({ type: "noop" })).body;
    await claim(running.id);
    const completed = (await submit({ type: "noop" })).body;
    const c = await claim(completed.id);
    await stack.repo.complete(completed.id, c.claim, "test-worker", null);
    const cancelled = (await submit({ type: "noop" })).body;
    await post(`/jobs/${cancelled.id}/cancel`);

    const expected = { [pending.id]: "PENDING", [running.id]: "RUNNING", [completed.id]: "COMPLETED", [cancelled.id]: "CANCELLED" };
    for (const [id, state] of Object.entries(expected)) {
      const res = await post(`/jobs/${id}/retry`);
      expect(res.status, state).toBe(409);
      expect(res.body.error.details, state).toMatchObject({ state, required: "FAILED" });
      expect((await stack.repo.get(id))?.state).toBe(state);
    }
  });
});

describe("/readyz and /metrics", () => {
  it("/readyz is 200 with every dependency's state", async () => {
    const res = await call(url("/readyz"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ready",
      required: ["postgres", "schema"],
      dependencies: { postgres: { ok: true }, schema: { ok: true }, redis: { ok: true }, rabbitmq: { ok: true } },
    });
  });

  it("/metrics is Prometheus text with submissions, transitions, job duration and HTTP latency", async () => {
    await submit({ type: "noop" });
    const res = await call(url("/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^jobstack_jobs_submitted_total\{[^}]*type="noop"[^}]*\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^jobstack_job_transitions_total\{[^}]*from="none",to="PENDING"[^}]*\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^jobstack_job_transitions_total\{[^}]*from="PENDING",to="CANCELLED"[^}]*\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^jobstack_dispatches_total\{[^}]*source="api",result="ok"[^}]*\} [1-9]\d*$/m);
    expect(res.text).toContain("# TYPE jobstack_job_duration_seconds histogram");
    // Route patterns, not raw ids, label the latency histogram.
    expect(res.text).toMatch(/^jobstack_http_request_duration_seconds_count\{[^}]*route="\/jobs\/:id"[^}]*\} \d+$/m);
    expect(res.text).not.toMatch(/route="\/jobs\/[0-9a-f]{8}-/);
  });
});

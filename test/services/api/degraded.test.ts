/**
 * The API with a dependency unreachable: Postgres on a closed port, then RabbitMQ on a closed
 * port. Liveness must not depend on either; readiness must report each; an accepted job must
 * never be lost to a broker outage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../../harness/ports.js";
import { authed, call, createTestDatabase, jsonPost, openHandles, startStack, type TestDatabase, type TestStack } from "./harness.js";

// Port 1 (tcpmux) is closed here: connections are refused at once, nothing hangs.
const CLOSED_PG = "postgres://postgres@127.0.0.1:1/nothing";
const CLOSED_AMQP = "amqp://guest:guest@127.0.0.1:1";

afterAll(async () => {
  await waitUntil("sockets closed", async () => openHandles().length === 0, 10_000, () => openHandles().join(", "));
});

describe("Postgres unreachable", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ databaseUrl: CLOSED_PG });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("/healthz still answers 200 (it touches no dependency)", async () => {
    const res = await call(`${stack.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("/readyz answers 503 naming Postgres, with Redis and RabbitMQ still ok", async () => {
    const res = await call(`${stack.baseUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body.status).toBe("not_ready");
    expect(res.body.dependencies.postgres).toEqual({ ok: false, error: expect.any(String) });
    expect(res.body.dependencies.redis).toEqual({ ok: true });
    expect(res.body.dependencies.rabbitmq).toEqual({ ok: true });
  });

  it("POST /jobs answers 503 in the error shape, without driver details or stack", async () => {
    const res = await call(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    expect(res.body).toEqual({ error: { code: "unavailable", message: expect.any(String), details: null } });
    expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\.ts:\d+/);
    expect((await call(`${stack.baseUrl}/healthz`)).status).toBe(200);
  });

  it("/metrics still answers: no job gauges, jobstack_dependency_up says Postgres is down", async () => {
    const res = await call(`${stack.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^jobstack_dependency_up\{[^}]*dependency="postgres"[^}]*\} 0$/m);
    expect(res.text).toMatch(/^jobstack_dependency_up\{[^}]*dependency="rabbitmq"[^}]*\} 1$/m);
    expect(res.text).not.toMatch(/^jobstack_jobs\{/m);
    expect(res.text).not.toMatch(/^jobstack_oldest_job_age_seconds/m);
    expect(res.text).toMatch(/^jobstack_queue_messages_ready\{/m);
  });

  it("GET /jobs/stats answers with what it could read: counts null, the queue present", async () => {
    const res = await call(`${stack.baseUrl}/jobs/stats`, authed(stack.token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ byState: null, byType: null, oldestPendingSeconds: null, queue: { name: stack.queueName, ready: 0 } });
  });
});

describe("a database that was never migrated", () => {
  let db: TestDatabase;
  let stack: TestStack;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    stack = await startStack({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await stack?.close();
    await db?.drop();
  });

  it("/readyz answers 503 and says the schema is missing, while POST /jobs cannot work", async () => {
    const res = await call(`${stack.baseUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body.dependencies.postgres).toEqual({ ok: true });
    expect(res.body.dependencies.schema).toEqual({ ok: false, error: expect.stringMatching(/not migrated.*schema_migrations/) });
    expect((await call(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }))).status).toBeGreaterThanOrEqual(500);
  });

  it("/readyz answers 503 on a schema older than this build, naming both versions", async () => {
    await stack.pool.query("create table schema_migrations (version integer primary key, name text not null, checksum text not null, applied_at timestamptz not null default now())");
    await stack.pool.query("insert into schema_migrations (version, name, checksum) values (1, '001_jobs.sql', 'x')");
    const res = await call(`${stack.baseUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body.dependencies.schema.error).toMatch(/version 1, this build needs [2-9]/);
  });
});

describe("RabbitMQ unreachable", () => {
  let db: TestDatabase;
  let stack: TestStack;
  beforeAll(async () => {
    db = await createTestDatabase();
    stack = await startStack({ databaseUrl: db.url, amqpUrl: CLOSED_AMQP, waitForQueue: false });
  });
  afterAll(async () => {
    await stack?.close();
    await db?.drop();
  });

  it("POST /jobs still answers 202: the job is committed PENDING and left undispatched for the sweeper", async () => {
    const res = await call(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }));
    expect(res.status).toBe(202);
    expect(res.body.state).toBe("PENDING");
    const row = await stack.pool.query("select state, dispatched_at from jobs where id = $1::uuid", [res.body.id]);
    expect(row.rows[0]).toEqual({ state: "PENDING", dispatched_at: null });
    const undispatched = await stack.repo.findUndispatched(0, 10);
    expect(undispatched.map((j) => j.id)).toContain(res.body.id);
  });

  it("/readyz stays 200 (the pod can serve: submissions are swept later) and reports RabbitMQ down", async () => {
    const res = await call(`${stack.baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(res.body.required).toEqual(["postgres", "schema"]);
    expect(res.body.dependencies).toEqual({ postgres: { ok: true }, schema: { ok: true }, redis: { ok: true }, rabbitmq: { ok: false, error: "not connected" } });
  });

  it("reports the outage as jobstack_dependency_up", async () => {
    await call(`${stack.baseUrl}/readyz`);
    const res = await call(`${stack.baseUrl}/metrics`);
    expect(res.text).toMatch(/^jobstack_dependency_up\{[^}]*dependency="rabbitmq"[^}]*\} 0$/m);
    expect(res.text).toMatch(/^jobstack_dependency_up\{[^}]*dependency="postgres"[^}]*\} 1$/m);
  });

  it("counts the failed dispatch in /metrics", async () => {
    const res = await call(`${stack.baseUrl}/metrics`);
    expect(res.text).toMatch(/^jobstack_dispatches_total\{[^}]*source="api",result="error"[^}]*\} [1-9]\d*$/m);
  });

  it("/metrics and GET /jobs/stats leave the queue out and keep the counts", async () => {
    const metrics = await call(`${stack.baseUrl}/metrics`);
    expect(metrics.text).toMatch(/^jobstack_dependency_up\{[^}]*dependency="rabbitmq"[^}]*\} 0$/m);
    expect(metrics.text).not.toMatch(/^jobstack_queue_messages_ready\{/m);
    expect(metrics.text).toMatch(/^jobstack_jobs\{[^}]*type="noop"[^}]*state="PENDING"[^}]*\} [1-9]\d*$/m);
    const stats = await call(`${stack.baseUrl}/jobs/stats`, authed(stack.token));
    expect(stats.status).toBe(200);
    expect(stats.body.queue).toBeNull();
    expect(stats.body.byState.PENDING).toBeGreaterThan(0);
  });
});

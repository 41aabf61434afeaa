// Over HTTP: a job past its retention answers 404 on GET /jobs/:id and /transitions, like a job
// that never existed, even though the api had cached it (docs/storage.md).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobRetention } from "../../../services/core/jobs/retention.js";
import { Maintenance } from "../../../services/worker/maintenance.js";
import { authed, call, createTestDatabase, jsonPost, startStack, type TestDatabase, type TestStack } from "./harness.js";

let db: TestDatabase;
let stack: TestStack;

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack({ databaseUrl: db.url });
});
afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

describe("a job past retention", () => {
  it("answers 404 like one that never existed, and its cache entry is gone", async () => {
    const submitted = await call<{ id: string }>(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }));
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;
    const claimed = await stack.repo.claim(id, "w", 10_000);
    if (!claimed.ok) throw new Error(claimed.message);
    const done = await stack.repo.complete(id, claimed.job.claim, "w", { ok: true });
    if (!done.ok) throw new Error(done.message);
    await stack.cache.put(done.job); // as the worker does
    const before = await call(`${stack.baseUrl}/jobs/${id}`, authed(stack.token));
    expect(before.status).toBe(200);
    expect(before.headers.get("x-jobstack-source")).toBe("cache");

    await new Promise((r) => setTimeout(r, 1_100));
    const maintenance = new Maintenance({
      workerId: "m",
      repo: stack.repo,
      queue: stack.deps.queue,
      cache: stack.cache,
      reaperIntervalMs: 60_000,
      sweeperIntervalMs: 60_000,
      sweepAfterMs: 60_000,
      retention: new JobRetention(stack.pool, { window: { completed: 1, failed: 1, cancelled: 1 } }),
    });
    expect(await maintenance.retainOnce()).toBe(1);

    const never = await call(`${stack.baseUrl}/jobs/${crypto.randomUUID()}`, authed(stack.token));
    const after = await call(`${stack.baseUrl}/jobs/${id}`, authed(stack.token));
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe(never.body.error.code);
    expect((await call(`${stack.baseUrl}/jobs/${id}/transitions`, authed(stack.token))).status).toBe(404);
  });
});

/**
 * `POST /jobs/batch`: all or nothing. Valid items are committed together, each with its audit
 * row, cached and published; one invalid item, or an idempotency key reused for a different
 * request, refuses the whole batch with nothing stored; a replayed key answers the first job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

const batch = (body: unknown, token: string | null = stack.token) => call(`${stack.baseUrl}/jobs/batch`, jsonPost(token, body));
const count = async () => Number((await stack.pool.query<{ n: string }>("select count(*) as n from jobs")).rows[0]!.n);
const key = (s: string) => `${s}-${Math.random().toString(36).slice(2)}`;

describe("POST /jobs/batch", () => {
  it("commits every item with its audit row, in request order, then caches and publishes each", async () => {
    const depth = await stack.queueDepth();
    const res = await batch({ jobs: [{ type: "noop" }, { type: "sleep", payload: { ms: 1 }, maxAttempts: 5 }, { type: "noop", payload: {} }] });
    expect(res.status).toBe(202);
    expect(res.body.items).toHaveLength(3);
    expect(res.body.items.map((i: { created: boolean }) => i.created)).toEqual([true, true, true]);
    expect(res.body.items.map((i: { job: { type: string } }) => i.job.type)).toEqual(["noop", "sleep", "noop"]);
    expect(res.body.items[1].job).toMatchObject({ state: "PENDING", maxAttempts: 5, attempts: 0 });
    await stack.repo.flushDispatchMarks(); // marks are written in the background after the confirms
    for (const { job } of res.body.items) {
      expect(await stack.repo.transitions(job.id)).toMatchObject([{ from: null, to: "PENDING", reason: "submitted" }]);
      expect((await stack.repo.get(job.id))?.dispatchedAt).not.toBeNull();
      expect(await stack.cache.get(job.id)).toMatchObject({ id: job.id, state: "PENDING" });
    }
    expect(await stack.queueDepth()).toBe(depth + 3);
  });

  it("answers the first job for a replayed key (earlier request or earlier item), without publishing it again", async () => {
    const k = key("replay");
    const first = await batch({ jobs: [{ type: "noop", idempotencyKey: k }] });
    expect(first.status).toBe(202);
    const depth = await stack.queueDepth();
    const again = await batch({ jobs: [{ type: "noop", idempotencyKey: k }, { type: "noop", idempotencyKey: `${k}-2` }, { type: "noop", idempotencyKey: `${k}-2` }] });
    expect(again.status).toBe(202);
    expect(again.body.items.map((i: { created: boolean }) => i.created)).toEqual([false, true, false]);
    expect(again.body.items[0].job.id).toBe(first.body.items[0].job.id);
    expect(again.body.items[2].job.id).toBe(again.body.items[1].job.id);
    expect(await stack.queueDepth()).toBe(depth + 1);
  });

  it("refuses the whole batch when one item is invalid, naming the item, and stores nothing", async () => {
    const before = await count();
    const res = await batch({ jobs: [{ type: "noop" }, { type: "no-such-type" }, { type: "sleep", payload: { ms: "soon" } }] });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths[0]).toBe("jobs.1.type");
    expect(paths.some((p: string) => p.startsWith("jobs.2.payload"))).toBe(true);
    expect(paths.some((p: string) => p.startsWith("jobs.0"))).toBe(false);
    expect(await count()).toBe(before);
  });

  it("refuses the whole batch with 409 when a key was used for a different request, and stores nothing", async () => {
    const k = key("reused");
    expect((await batch({ jobs: [{ type: "noop", payload: { a: 1 }, idempotencyKey: k }] })).status).toBe(202);
    const before = await count();
    const res = await batch({ jobs: [{ type: "noop", idempotencyKey: key("fresh") }, { type: "noop", payload: { a: 2 }, idempotencyKey: k }] });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("idempotency_key_reused");
    expect(res.body.error.details).toEqual([expect.objectContaining({ part: "body", path: "jobs.1.payload" })]);
    expect(await count()).toBe(before);
  });

  it("takes 1 to 1,000 jobs and needs the token", async () => {
    expect((await batch({ jobs: [] })).status).toBe(400);
    expect((await batch({ jobs: Array.from({ length: 1001 }, () => ({ type: "noop" })) })).status).toBe(400);
    expect((await batch({ jobs: [{ type: "noop" }] }, null)).status).toBe(401);
    const big = await batch({ jobs: Array.from({ length: 1000 }, () => ({ type: "noop" })) });
    expect(big.status).toBe(202);
    expect(big.body.items).toHaveLength(1000);
    expect(new Set(big.body.items.map((i: { job: { id: string } }) => i.job.id)).size).toBe(1000);
  });

  it("is not mistaken for a job id by GET /jobs/:id", async () => {
    expect((await call(`${stack.baseUrl}/jobs/batch`, authed(stack.token))).status).toBe(400);
  });
});

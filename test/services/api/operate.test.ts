/**
 * The operator's routes against the real Postgres, Redis and RabbitMQ: search with filters and
 * keyset pages, the signed cursor, stats, the bulk actions, the two tokens on every route, and
 * bad input answered with a 400 naming the parameter.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../services/api/app.js";
import { CursorCodec } from "../../../services/api/cursor.js";
import { ROUTES } from "../../../services/api/openapi.js";
import { uuidv7 } from "../../../services/core/uuid.js";
import type { JobState } from "../../../services/core/states.js";
import { authed, call, type Answer, createTestDatabase, jsonPost, startStack, type TestDatabase, type TestStack } from "./harness.js";

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

const url = (path: string) => `${stack.baseUrl}${path}`;
const get = (path: string, token = stack.token) => call(url(path), authed(token));
const post = (path: string, body: unknown, token = stack.operatorToken) => call(url(path), jsonPost(token, body));

interface Row {
  state: JobState;
  createdAt: string;
  type?: string;
  id?: string;
}

/** Inserts jobs as they would be after their moves (search and bulk read only the row). Returns their ids. */
async function insert(type: string, rows: Row[]): Promise<string[]> {
  const ids = rows.map((r) => r.id ?? uuidv7());
  await stack.pool.query(
    `insert into jobs (id, type, state, max_attempts, attempts, created_at, run_after)
     select id, type, state, 3, case when state = 'PENDING' then 0 else 1 end, created_at, created_at
     from unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) as r(id, type, state, created_at)`,
    [ids, rows.map((r) => r.type ?? type), rows.map((r) => r.state), rows.map((r) => r.createdAt)],
  );
  return ids;
}

const at = (second: number, micros = 0) => `2026-01-01T00:00:${String(second).padStart(2, "0")}.${String(micros).padStart(6, "0")}Z`;
const newType = () => `t-${randomUUID().slice(0, 8)}`;

async function allPages(query: string, limit: number, token = stack.token): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`/jobs?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.items.map((j: { id: string }) => j.id));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor !== null && pages < 100);
  return { ids, pages };
}

function expectBadRequest(res: Answer, part: string, path: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe("bad_request");
  expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ part, path })]));
}

describe("GET /jobs", () => {
  it("filters by one or several states and by type, newest first", async () => {
    const type = newType();
    const [p1, f1, r1, f2, c1] = await insert(type, [
      { state: "PENDING", createdAt: at(1) },
      { state: "FAILED", createdAt: at(2) },
      { state: "RUNNING", createdAt: at(3) },
      { state: "FAILED", createdAt: at(4) },
      { state: "COMPLETED", createdAt: at(5) },
    ]);
    const ids = async (q: string) => (await get(`/jobs?type=${type}&${q}`)).body.items.map((j: { id: string }) => j.id);
    expect(await ids("")).toEqual([c1, f2, r1, f1, p1]);
    expect(await ids("state=FAILED")).toEqual([f2, f1]);
    expect(await ids("state=FAILED,PENDING")).toEqual([f2, f1, p1]);
    expect(await ids("state=FAILED&state=RUNNING")).toEqual([f2, r1, f1]);
    expect(await ids("state=CANCELLED")).toEqual([]);
    const one = await get(`/jobs?type=${type}&state=COMPLETED`);
    expect(one.body).toEqual({ items: [expect.objectContaining({ id: c1, type, state: "COMPLETED", createdAt: "2026-01-01T00:00:05.000Z" })], nextCursor: null });
  });

  it("createdAfter and createdBefore are strict bounds", async () => {
    const type = newType();
    const [a, b, c] = await insert(type, [
      { state: "PENDING", createdAt: at(10) },
      { state: "PENDING", createdAt: at(11) },
      { state: "PENDING", createdAt: at(12) },
    ]);
    const ids = async (q: string) => (await get(`/jobs?type=${type}&${q}`)).body.items.map((j: { id: string }) => j.id);
    expect(await ids(`createdAfter=${at(10)}`)).toEqual([c, b]);
    expect(await ids(`createdBefore=${at(12)}`)).toEqual([b, a]);
    expect(await ids(`createdAfter=${at(10)}&createdBefore=${at(12)}`)).toEqual([b]);
    expect(await ids(`createdAfter=${encodeURIComponent("2026-01-01T01:00:10+01:00")}`)).toEqual([c, b]);
  });

  it("pages through every job exactly once, also across equal timestamps and microseconds apart", async () => {
    const type = newType();
    const rows: Row[] = [];
    // 23 jobs: groups sharing one created_at exactly, and neighbours 1 µs apart (one JS millisecond).
    for (let i = 0; i < 23; i++) rows.push({ state: i % 3 === 0 ? "FAILED" : "PENDING", createdAt: at(20 + Math.floor(i / 4), i % 2) });
    const ids = await insert(type, rows);
    const { rows: expected } = await stack.pool.query<{ id: string }>(
      "select id from jobs where type = $1::text order by created_at desc, id desc",
      [type],
    );
    const paged = await allPages(`type=${type}`, 5);
    expect(paged.ids).toEqual(expected.map((r) => r.id));
    expect(new Set(paged.ids).size).toBe(ids.length);
    expect(paged.pages).toBe(5);
    const failed = await allPages(`type=${type}&state=FAILED`, 3);
    expect(failed.ids).toEqual(expected.map((r) => r.id).filter((id) => rows[ids.indexOf(id)]!.state === "FAILED"));
    // The operator token may read too.
    expect((await allPages(`type=${type}`, 10, stack.operatorToken)).ids).toEqual(paged.ids);
  });

  it("answers 50 by default and at most 500", async () => {
    const type = newType();
    await insert(type, Array.from({ length: 55 }, (_, i) => ({ state: "COMPLETED" as const, createdAt: at(40, i) })));
    const first = await get(`/jobs?type=${type}`);
    expect(first.body.items).toHaveLength(50);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect((await get(`/jobs?type=${type}&limit=500`)).body.items).toHaveLength(55);
  });

  it("400 naming the parameter for unknown values, unknown parameters and limits out of range", async () => {
    expectBadRequest(await get("/jobs?state=DONE"), "query", "state.0");
    expectBadRequest(await get("/jobs?state=FAILED,done"), "query", "state.1");
    expectBadRequest(await get("/jobs?state="), "query", "state");
    expectBadRequest(await get("/jobs?status=FAILED"), "query", "status");
    expectBadRequest(await get("/jobs?limit=0"), "query", "limit");
    expectBadRequest(await get("/jobs?limit=501"), "query", "limit");
    expectBadRequest(await get("/jobs?limit=ten"), "query", "limit");
    expectBadRequest(await get("/jobs?limit=2.5"), "query", "limit");
    expectBadRequest(await get("/jobs?createdAfter=yesterday"), "query", "createdAfter");
    expectBadRequest(await get("/jobs?createdBefore=2026-01-01"), "query", "createdBefore");
    expectBadRequest(await get("/jobs?createdAfter=0000-01-01T00:00:00Z"), "query", "createdAfter");
    expectBadRequest(await get("/jobs?type=a&type=b"), "query", "type");
    expectBadRequest(await get("/jobs?cursor="), "query", "cursor");
    expectBadRequest(await get("/jobs?limit="), "query", "limit");
    expectBadRequest(await get(`/jobs?createdAfter=${at(5)}&createdBefore=${at(5)}`), "query", "createdBefore");
    expectBadRequest(await get(`/jobs?type=${"x".repeat(101)}`), "query", "type");
  });

  it("never a 500 for odd query strings: each is a 400 naming its parameter", async () => {
    const odd: [string, string][] = [
      ["state[]=FAILED", "state[]"],
      ["limit=1e3", "limit"],
      ["limit=-1", "limit"],
      ["limit=99999999999999999999", "limit"],
      ["createdAfter=2026-01-01T00:00:00%2B25:00", "createdAfter"],
      ["createdBefore=%00", "createdBefore"],
      [`cursor=${"A".repeat(2000)}`, "cursor"],
      ["cursor=v1.%E2%98%83.AAAAAAAAAAAAAAAAAAAAAA", "cursor"],
      ["state=%E2%98%83", "state.0"],
    ];
    for (const [query, param] of odd) expectBadRequest(await get(`/jobs?${query}`), "query", param);
  });

  it("400 naming cursor for a malformed, altered, foreign or other-query cursor", async () => {
    const type = newType();
    const ids = await insert(type, Array.from({ length: 4 }, (_, i) => ({ state: "FAILED" as const, createdAt: at(50 + i) })));
    const first = await get(`/jobs?type=${type}&limit=2`);
    const cursor: string = first.body.nextCursor;
    expect((await get(`/jobs?type=${type}&limit=2&cursor=${cursor}`)).status).toBe(200);
    // Another page size is fine; other filters are not.
    expect((await get(`/jobs?type=${type}&limit=3&cursor=${cursor}`)).status).toBe(200);
    expectBadRequest(await get(`/jobs?type=${type}&state=FAILED&limit=2&cursor=${cursor}`), "query", "cursor");
    expectBadRequest(await get(`/jobs?limit=2&cursor=${cursor}`), "query", "cursor");

    const [version, body, mac] = cursor.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(body, "base64url").toString());
    const edited = Buffer.from(JSON.stringify({ ...payload, i: ids[0] })).toString("base64url");
    const flipped = `${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`;
    // Same MAC bytes, another spelling: the last character's padding bits changed.
    const lastIndex = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(mac.at(-1)!);
    const padded = `${mac.slice(0, -1)}${"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[lastIndex | 1]}`;
    expect(Buffer.from(padded, "base64url")).toEqual(Buffer.from(mac, "base64url"));
    const foreign = new CursorCodec("some-other-api-token-0000").encode({ createdAtMicros: payload.t, id: payload.i }, { type });
    for (const bad of ["x", "v1..", `${version}.${edited}.${mac}`, `${version}.${body}.${flipped}`, `${version}.${body}.${padded}`, foreign, `${cursor}x`, "v2.e30.AAAAAAAAAAAAAAAAAAAAAA"]) {
      const res = await get(`/jobs?type=${type}&limit=2&cursor=${encodeURIComponent(bad)}`);
      expectBadRequest(res, "query", "cursor");
    }
  });
});

describe("GET /jobs/stats", () => {
  it("counts by state and by type, the oldest waiting job and the queue's depths", async () => {
    const type = newType();
    await insert(type, [
      { state: "PENDING", createdAt: new Date(Date.now() - 120_000).toISOString() },
      { state: "FAILED", createdAt: at(1) },
      { state: "FAILED", createdAt: at(2) },
    ]);
    const res = await get("/jobs/stats");
    expect(res.status).toBe(200);
    const { rows } = await stack.pool.query<{ state: JobState; n: number }>("select state, count(*)::int as n from jobs group by state");
    const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    expect(res.body.byState).toEqual({ PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0, ...byState });
    expect(res.body.byType[type]).toEqual({ PENDING: 1, RUNNING: 0, COMPLETED: 0, FAILED: 2, CANCELLED: 0 });
    expect(res.body.oldestPendingSeconds).toBeGreaterThanOrEqual(119);
    expect(res.body.queue).toEqual({
      name: stack.queueName,
      ready: await stack.queueDepth(),
      unacked: null,
      consumers: 0,
      deadLetterQueue: `${stack.queueName}.dead`,
      deadLettered: 0,
    });
    expect(Date.parse(res.body.at)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("POST /jobs/retry and /jobs/cancel", () => {
  it("retries every FAILED job the filter matches: PENDING, attempts reset, audited, published", async () => {
    const type = newType();
    const failed = await insert(type, Array.from({ length: 7 }, (_, i) => ({ state: "FAILED" as const, createdAt: at(i) })));
    const [completed, otherType] = await insert(type, [
      { state: "COMPLETED", createdAt: at(30) },
      { state: "FAILED", createdAt: at(31), type: newType() },
    ]);
    const depth = await stack.queueDepth();

    const res = await post("/jobs/retry", { filter: { type } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ moved: 7 });
    await stack.repo.flushDispatchMarks();
    const { rows } = await stack.pool.query<{ id: string; state: string; attempts: number; dispatched_at: Date | null }>(
      "select id, state, attempts, dispatched_at from jobs where id = any($1::uuid[])",
      [failed],
    );
    expect(rows.every((r) => r.state === "PENDING" && r.attempts === 0 && r.dispatched_at !== null)).toBe(true);
    expect(await stack.queueDepth()).toBe(depth + 7);
    const audit = await stack.pool.query<{ job_id: string }>(
      "select job_id from job_transitions where from_state = 'FAILED' and to_state = 'PENDING' and reason = 'bulk retry via API' and job_id = any($1::uuid[])",
      [failed],
    );
    expect(audit.rows.map((r) => r.job_id).sort()).toEqual([...failed].sort());
    expect((await stack.repo.get(completed!))?.state).toBe("COMPLETED");
    expect((await stack.repo.get(otherType!))?.state).toBe("FAILED");
    // The cache answers the new state, like after a single retry.
    expect((await get(`/jobs/${failed[0]}`)).body.state).toBe("PENDING");
    // Nothing left to move: a second call moves none.
    expect((await post("/jobs/retry", { filter: { type } })).body).toEqual({ moved: 0 });
  });

  it("cancels the PENDING jobs of a time range and of an id list, and no other", async () => {
    const type = newType();
    const [old1, old2, recent, running] = await insert(type, [
      { state: "PENDING", createdAt: at(1) },
      { state: "PENDING", createdAt: at(2) },
      { state: "PENDING", createdAt: at(40) },
      { state: "RUNNING", createdAt: at(1) },
    ]);
    const res = await post("/jobs/cancel", { filter: { type, createdBefore: at(30), state: "PENDING" } });
    expect(res.body).toEqual({ moved: 2 });
    for (const [id, state] of [[old1, "CANCELLED"], [old2, "CANCELLED"], [recent, "PENDING"], [running, "RUNNING"]] as const) {
      expect((await stack.repo.get(id!))?.state, id).toBe(state);
    }
    expect((await post("/jobs/cancel", { filter: { ids: [recent, running] } })).body).toEqual({ moved: 1 });
    const log = (await get(`/jobs/${recent}/transitions`)).body;
    expect(log.at(-1)).toMatchObject({ from: "PENDING", to: "CANCELLED", reason: "bulk cancel via API" });
  });

  it("moves every match across chunks, each once, even when a retried job fails again during the pass", async () => {
    const type = newType();
    const ids = await insert(type, Array.from({ length: 10 }, (_, i) => ({ state: "FAILED" as const, createdAt: at(i % 3) })));
    const seen: string[] = [];
    const moved = await stack.repo.moveMatching(
      "retry",
      { type },
      "chunk test",
      async (jobs) => {
        seen.push(...jobs.map((j) => j.id));
        // A handler that fails at once: the chunk is FAILED again before the next chunk is read.
        await stack.pool.query("update jobs set state = 'FAILED' where id = any($1::uuid[])", [jobs.map((j) => j.id)]);
      },
      3,
    );
    expect(moved).toBe(10);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it("400 for no filter, an empty filter, a state-only filter or the wrong state; nothing moves", async () => {
    const type = newType();
    await insert(type, [
      { state: "FAILED", createdAt: at(1) },
      { state: "PENDING", createdAt: at(1) },
    ]);
    const count = async () => (await stack.pool.query("select count(*)::int as n from jobs where state in ('FAILED', 'PENDING')")).rows[0].n;
    const before = await count();
    for (const route of ["/jobs/retry", "/jobs/cancel"]) {
      expectBadRequest(await post(route, {}), "body", "filter");
      expectBadRequest(await post(route, { filter: {} }), "body", "filter");
      expectBadRequest(await post(route, { filter: null }), "body", "filter");
      expectBadRequest(await post(route, { filter: { type: "" } }), "body", "filter.type");
      expectBadRequest(await post(route, { filter: { nope: 1, type } }), "body", "filter.nope");
      expectBadRequest(await post(route, { filter: { ids: [] } }), "body", "filter.ids");
      expectBadRequest(await post(route, { filter: { ids: ["x"] } }), "body", "filter.ids.0");
      expectBadRequest(await post(route, { filter: { createdBefore: "now" } }), "body", "filter.createdBefore");
      expectBadRequest(await post(route, { filter: { createdAfter: at(9), createdBefore: at(1) } }), "body", "filter.createdBefore");
      const bare = await call(url(route), authed(stack.operatorToken, { method: "POST" }));
      expect(bare.status).toBe(400);
    }
    expectBadRequest(await post("/jobs/retry", { filter: { state: "FAILED" } }), "body", "filter");
    expectBadRequest(await post("/jobs/retry", { filter: { state: "PENDING", type } }), "body", "filter.state");
    expectBadRequest(await post("/jobs/cancel", { filter: { state: ["PENDING", "FAILED"], type } }), "body", "filter.state");
    expect(await count()).toBe(before);
  });
});

describe("two tokens", () => {
  const exampleUrl = (pattern: string) => pattern.replace(":id", "0190a6d0-0000-7000-8000-000000000000");
  const operatorRoutes = ROUTES.filter((r) => r.access === "operator");
  const tokenRoutes = ROUTES.filter((r) => r.access !== "public");

  it("describes at least the four operator routes", () => {
    expect(operatorRoutes.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      ["POST /jobs/:id/cancel", "POST /jobs/:id/retry", "POST /jobs/cancel", "POST /jobs/retry"].sort(),
    );
  });

  it("403 for the submit token on every operator route, and nothing moves", async () => {
    const type = newType();
    const [failed, pending] = await insert(type, [
      { state: "FAILED", createdAt: at(1) },
      { state: "PENDING", createdAt: at(1) },
    ]);
    for (const route of operatorRoutes) {
      const path = route.url.replace(":id", route.url.endsWith("retry") ? failed! : pending!);
      const res = await call(url(path), jsonPost(stack.token, { filter: { type } }));
      expect(res.status, `${route.method} ${route.url}`).toBe(403);
      expect(res.body.error).toMatchObject({ code: "forbidden", details: { required: "operator", held: "submit" } });
    }
    expect((await stack.repo.get(failed!))?.state).toBe("FAILED");
    expect((await stack.repo.get(pending!))?.state).toBe("PENDING");
    // The operator's token passes the same routes.
    expect((await call(url(`/jobs/${failed}/retry`), authed(stack.operatorToken, { method: "POST" }))).status).toBe(200);
    expect((await post("/jobs/cancel", { filter: { ids: [pending] } })).body).toEqual({ moved: 1 });
  });

  it("401 without a token or with a wrong one on every route that needs one", async () => {
    for (const route of tokenRoutes) {
      for (const token of [null, "wrong-token-0123456789"]) {
        const init = route.method === "POST" ? jsonPost(token, { filter: { type: "x" } }) : token ? authed(token) : {};
        const res = await call(url(exampleUrl(route.url)), init);
        expect(res.status, `${route.method} ${route.url} ${token}`).toBe(401);
      }
    }
  });

  it("with no OPERATOR_TOKEN configured, no one may retry or cancel", async () => {
    const app = buildApp(stack.deps, { apiToken: stack.token });
    try {
      for (const route of operatorRoutes) {
        const res = await app.inject({
          method: route.method,
          url: exampleUrl(route.url),
          headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/json" },
          payload: { filter: { type: "x" } },
        });
        expect(res.statusCode, route.url).toBe(403);
      }
      const bearerOfNothing = await app.inject({ method: "POST", url: "/jobs/retry", headers: { authorization: "Bearer " } });
      expect(bearerOfNothing.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

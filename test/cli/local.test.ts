/**
 * `jobstack local` end to end: migrations on an empty database, the API and two worker
 * processes, a job submitted over HTTP with the printed token and seen COMPLETED, then a
 * graceful stop after which no child process remains.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { runLocal, type LocalInfo } from "../../cli/local.js";
import { spareport, waitUntil } from "../../harness/ports.js";
import { alive, descendants } from "../support/procs.js";
import { AMQP_URL, call, createTestDatabase, deleteQueue, jsonPost, authed, queueExists, REDIS_URL, type TestDatabase } from "../services/api/harness.js";

let db: TestDatabase;
const queueName = `test-${randomUUID()}`;
const jobIds: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
});

afterAll(async () => {
  // The services cache under core's fixed "jobstack:" prefix: delete exactly this test's keys.
  const redis = new Redis(REDIS_URL);
  try {
    if (jobIds.length > 0) await redis.del(...jobIds.map((id) => `jobstack:job:${id}`));
  } finally {
    await redis.quit();
  }
  await deleteQueue(queueName);
  expect(await queueExists(queueName)).toBe(false);
  await db?.drop(); // fails if a child left a connection open
});

describe("runLocal", () => {
  it("migrates, serves jobs to completion with the printed token, and stops every child", async () => {
    const port = await spareport();
    const lines: string[] = [];
    const stop = new AbortController();
    let info: LocalInfo | undefined;
    let readyResolve: (i: LocalInfo) => void = () => undefined;
    const ready = new Promise<LocalInfo>((resolve) => {
      readyResolve = resolve;
    });
    const running = runLocal({
      env: "dev",
      workers: 2,
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      amqpUrl: AMQP_URL,
      port,
      healthPortBase: 0,
      extraEnv: { JOB_QUEUE: queueName, QUEUE_TYPE: "classic" },
      // What a terminal gets: readable lines at info, not JSON at the environment's debug level.
      logFormat: "pretty",
      out: (line) => lines.push(line),
      signal: stop.signal,
      onReady: (i) => readyResolve(i),
    });
    try {
      // Either it becomes ready, or runLocal returns early (and the output says why).
      const first = await Promise.race([ready, running.then((code) => ({ code }))]);
      if ("code" in first) throw new Error(`runLocal ended with ${first.code} before ready:\n${lines.join("\n")}`);
      info = first;
      const { url, token } = first;
      expect(info.pids).toHaveLength(3);
      expect(lines.join("\n")).toContain(`API token: ${token}`);
      expect(lines.join("\n")).toContain(`operator token (may also retry and cancel): ${first.operatorToken}`);
      expect(first.operatorToken).not.toBe(token);
      expect(lines.join("\n")).toContain(`http://127.0.0.1:${port}`);
      expect(lines).toContain(`dashboard: ${url}/ui (paste a token above)`);
      const dashboard = await fetch(`${url}/ui`);
      expect(dashboard.status).toBe(200);
      expect(dashboard.headers.get("content-type")).toMatch(/^text\/html/);
      // Both processes load the environment's handler modules (dev has no handlers: list).
      expect(lines.join("\n")).toMatch(/^handler modules \(handlers\/\): /m);
      // The printed token must not open the API to the network: it listens on loopback only.
      const listening = execFileSync("ss", ["-Hltn", `sport = :${port}`], { encoding: "utf8" });
      expect(listening.trim().split(/\s+/)[3]).toBe(`127.0.0.1:${port}`);

      expect((await call(`${url}/jobs`, jsonPost(null, { type: "noop" }))).status).toBe(401);
      const submitted = await call(`${url}/jobs`, jsonPost(info.token, { type: "hash", payload: { rounds: 1000 } }));
      expect(submitted.status).toBe(202);
      const id: string = submitted.body.id;
      jobIds.push(id);

      let last: any;
      await waitUntil(
        "job COMPLETED",
        async () => {
          last = (await call(`${url}/jobs/${id}`, authed(token))).body;
          return last?.state === "COMPLETED";
        },
        30_000,
        () => `last answer: ${JSON.stringify(last)}\n${lines.slice(-30).join("\n")}`,
      );
      expect(last.result).toMatchObject({ rounds: 1000, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const log = (await call(`${url}/jobs/${id}/transitions`, authed(token))).body;
      expect(log.map((t: any) => t.to)).toEqual(["PENDING", "RUNNING", "COMPLETED"]);
      expect(log[1].workerId).toMatch(/^local-worker-[12]$/);
      const childLines = lines.filter((l) => /^\[(api|worker-\d)\] /.test(l));
      expect(childLines.some((l) => /^\[worker-1\] \[\d\d:\d\d:\d\d\] INFO: worker started/.test(l)), childLines.join("\n")).toBe(true);
      expect(childLines.filter((l) => l.includes('{"level"') || / DEBUG/.test(l))).toEqual([]);
    } finally {
      stop.abort();
      const code = await running;
      if (info) expect(code, lines.slice(-30).join("\n")).toBe(0);
    }
    for (const pid of info!.pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(descendants(process.pid).filter((p) => info!.pids.includes(p))).toEqual([]);
  });

  it("gives up on an API that is not ready in time, saying what the last probe got, and stops the children", async () => {
    const port = await spareport();
    const lines: string[] = [];
    const before = new Set(descendants(process.pid));
    // Far shorter than the API's start-up: every probe finds nothing listening yet.
    const code = await runLocal({
      env: "dev",
      workers: 1,
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      amqpUrl: AMQP_URL,
      port,
      healthPortBase: 0,
      extraEnv: { JOB_QUEUE: queueName, QUEUE_TYPE: "classic" },
      logFormat: "json",
      readyTimeoutMs: 300,
      out: (line) => lines.push(line),
    });
    expect(code).toBe(1);
    const url = `http://127.0.0.1:${port}`;
    expect(lines, lines.join("\n")).toContain(`the API did not become ready at ${url}/readyz (last attempt: fetch failed (ECONNREFUSED)); stopping`);
    expect(descendants(process.pid).filter((p) => !before.has(p))).toEqual([]);
  });
});

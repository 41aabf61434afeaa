/**
 * SIGTERM with requests in flight, on the real api process: it stops accepting connections at
 * once, lets the requests it already has finish (with their real answers), then exits 0.
 *
 * The requests are held in flight by a row lock this test takes on their jobs: each
 * `POST /jobs/:id/cancel` waits in `select … for update` until the test lets go.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTimeout } from "../../../services/core/errors.js";
import { AMQP_URL, REDIS_URL, ROOT, createTestDatabase, deleteQueueTopology, eventually, testQueueName, type TestDatabase } from "../../../harness/jobstack.js";
import { spareport } from "../../../harness/ports.js";

let db: TestDatabase;
const queue = testQueueName();
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await deleteQueueTopology(queue).catch(() => undefined);
  await db?.drop();
});

const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });

describe("api process on SIGTERM", () => {
  it("refuses new connections, finishes the requests in flight, then exits 0", { timeout: 120_000 }, async () => {
    const port = await spareport();
    // The operator's token: the held requests are cancels, which the API token may not send.
    const token = randomUUID();
    const child = spawn(process.execPath, ["--import", "tsx", "services/api/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        DATABASE_URL: db.url,
        REDIS_URL,
        AMQP_URL,
        API_TOKEN: randomUUID(),
        OPERATOR_TOKEN: token,
        JOB_QUEUE: queue,
        QUEUE_TYPE: "classic",
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });

    try {
      await eventually("api ready", async () => (await api("/readyz").catch(() => null))?.status === 200, 60_000);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(((await (await api("/jobs", { method: "POST", body: JSON.stringify({ type: "noop" }) })).json()) as { id: string }).id);

      // Hold the rows, so that each cancel waits inside the api.
      const locker = new pg.Client({ connectionString: db.url });
      await locker.connect();
      await locker.query("begin");
      await locker.query("select id from jobs where id = any($1::uuid[]) for update", [ids]);
      const inFlight = ids.map((id) => api(`/jobs/${id}/cancel`, { method: "POST", body: "{}" }).then(async (r) => ({ status: r.status, body: (await r.json()) as { state?: string } })));
      // Cancels that arrive together share one statement (services/core/batch.ts), so one or
      // more backends wait, not necessarily three.
      await eventually("the cancels waiting on the lock", async () => {
        const { rows } = await locker.query<{ n: number }>(
          "select count(*)::integer as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        return rows[0]!.n >= 1;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 500)); // the connections were opened long before; let every request reach its wait

      child.kill("SIGTERM");
      await eventually("new connections refused", async () => refuses(port), 30_000);
      expect(child.exitCode, output).toBeNull(); // still finishing what it has

      await locker.query("commit");
      await locker.end();
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.map((a) => a.body.state)).toEqual(["CANCELLED", "CANCELLED", "CANCELLED"]);
      // Within Kubernetes' default 30 s grace period (keep-alive sockets once held it for 72 s).
      expect(await withTimeout(exited, 30_000, "api exit after SIGTERM"), output).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

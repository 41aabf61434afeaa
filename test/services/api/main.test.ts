/**
 * The real API process (`npm run api`) started while Postgres is unreachable: it must come up,
 * answer /healthz, report the outage on /readyz, and still drain and exit 0 on SIGTERM, so an
 * orchestrator sees a live-but-not-ready replica instead of a crash loop.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { AMQP_URL, deleteQueueTopology, REDIS_URL, testQueueName } from "../../../harness/jobstack.js";
import { spareport, waitUntil } from "../../../harness/ports.js";

const queue = testQueueName();
const children: ReturnType<typeof spawn>[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await deleteQueueTopology(queue);
});

describe("api process with Postgres unreachable", () => {
  it("serves /healthz, answers 503 on /readyz, and exits 0 on SIGTERM", { timeout: 60_000 }, async () => {
    const port = await spareport();
    const child = spawn(process.execPath, ["--import", "tsx", "services/api/main.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: "postgres://postgres@127.0.0.1:1/nothing",
        REDIS_URL,
        AMQP_URL,
        API_TOKEN: randomUUID(),
        JOB_QUEUE: queue,
        QUEUE_TYPE: "classic",
        PORT: String(port),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    const get = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { dependencies?: { postgres?: { ok: boolean } } },
      }));
    await waitUntil("api listening", async () => (await get("/healthz").catch(() => null))?.status === 200, 30_000, () => output);

    const ready = await get("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.dependencies?.postgres?.ok).toBe(false);

    child.kill("SIGTERM");
    expect(await exited, output).toBe(0);
  });
});

/**
 * The real api process (`services/api/main.ts`) for end-to-end tests: same database, queue and
 * cache prefix as the workers of `workerEnv`, a spare port, a fresh token, and `submit` over HTTP.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { REDIS_URL, AMQP_URL, ROOT, type TestDatabase } from "../../harness/jobstack.js";
import { spareport, waitUntil } from "../../harness/ports.js";

export interface ApiProcess {
  readonly url: string;
  readonly output: () => string;
  readonly exited: Promise<number | string>;
  /** POST /jobs with the token; the parsed answer. */
  submit(body: unknown): Promise<{ status: number; body: any }>;
  get(pathname: string): Promise<{ status: number; body: any }>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | string>;
}

export async function spawnApi(db: Pick<TestDatabase, "url">, queue: string, extra: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await spareport();
  const token = randomBytes(24).toString("hex");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "services/api/main.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: db.url,
      REDIS_URL,
      AMQP_URL,
      JOB_QUEUE: queue,
      CACHE_PREFIX: `test-${queue}:`,
      CACHE_TTL_SECONDS: "30",
      API_TOKEN: token,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DB_POOL_SIZE: "4",
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  const url = `http://127.0.0.1:${port}`;
  const call = async (method: string, pathname: string, body?: unknown) => {
    const res = await fetch(`${url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const api: ApiProcess = {
    url,
    output: () => out,
    exited,
    submit: (body) => call("POST", "/jobs", body),
    get: (pathname) => call("GET", pathname),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  try {
    await waitUntil("api ready", async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200, 60_000, () => out);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return api;
}

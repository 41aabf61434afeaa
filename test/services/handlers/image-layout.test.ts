/**
 * The images hold what JOB_HANDLER_MODULES names, and `jobstack/worker` resolves inside them.
 * No Docker daemon here, so the test lays out the files the Dockerfile's COPY lines put in /app
 * (services/Dockerfile, and services/Dockerfile.handlers on top of a base image without
 * handlers), links node_modules, and starts the real worker from that folder against the real
 * servers: it must come up with the example's and a team's handler types.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, deleteQueueTopology, ROOT, testQueueName, workerEnv, type TestDatabase } from "../../../harness/jobstack.js";

/** `COPY [--chmod=…] src… dest` lines of the final stage that copy from the build context into /app. */
function contextCopies(dockerfile: string): { sources: string[]; dest: string }[] {
  const text = readFileSync(join(ROOT, dockerfile), "utf8");
  const finalStage = text.slice(text.lastIndexOf("\nFROM "));
  return [...finalStage.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+)$/gm)]
    .map((m) => m[1]!.trim().split(/\s+/))
    .map((parts) => ({ sources: parts.slice(0, -1), dest: parts.at(-1)! }))
    .filter((c) => !c.dest.startsWith("/") || c.dest.startsWith("/app"));
}

function layOut(app: string, dockerfile: string): void {
  for (const { sources, dest } of contextCopies(dockerfile)) {
    const target = join(app, dest.replace(/^\/app\/?/, ""));
    for (const src of sources) {
      const into = dest.endsWith("/") ? join(target, src.split("/").pop()!) : target;
      mkdirSync(dirname(into), { recursive: true });
      cpSync(join(ROOT, src), into, { recursive: true });
    }
  }
}

const TEAM_HANDLER = `import { defineHandler, z } from "jobstack/worker";
export default defineHandler({ payload: z.object({}), run: () => ({ ok: true }) });
`;

let db: TestDatabase;
const queue = testQueueName();
const dirs: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await deleteQueueTopology(queue);
  await db?.drop();
});

function startWorker(app: string, modules: string): Promise<{ types: string[] | null; output: string; code: number | string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "services/worker/main.ts"], {
    cwd: app,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", HEALTH_PORT: "0", ...workerEnv(db, queue), JOB_HANDLER_MODULES: modules, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let types: string[] | null = null;
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const line of output.split("\n")) {
      if (types === null && line.includes('"worker started"')) {
        types = (JSON.parse(line) as { types: string[] }).types;
        child.kill("SIGTERM");
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ types, output, code: code ?? signal ?? "?" });
    }),
  );
}

describe("handler modules inside the image layout", () => {
  it.each([
    ["services/Dockerfile", ["services/Dockerfile"]],
    ["services/Dockerfile.handlers over a base image", ["services/Dockerfile", "services/Dockerfile.handlers"]],
  ])("%s", { timeout: 90_000 }, async (_name, dockerfiles) => {
    const app = mkdtempSync(join(tmpdir(), "jobstack-image-"));
    dirs.push(app);
    const [base, ...layers] = dockerfiles;
    layOut(app, base!);
    if (layers.length > 0) {
      // The base image as published: no team handlers; the layer brings them.
      rmSync(join(app, "handlers"), { recursive: true, force: true });
      rmSync(join(app, "examples"), { recursive: true, force: true });
      for (const layer of layers) layOut(app, layer);
    }
    symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
    writeFileSync(join(app, "handlers", "team-report.ts"), TEAM_HANDLER); // as if in the repository's handlers/ at build time

    const { types, output, code } = await startWorker(app, "./examples/handlers/send-invoice.ts,./handlers/team-report.ts");
    expect(types, output).toEqual(["fail", "hash", "noop", "send-invoice", "sleep", "team-report"]);
    expect(code, output).toBe(0);
  });
});

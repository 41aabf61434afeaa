/**
 * A handler module that cannot be loaded stops the real api and worker processes at start-up
 * (exit 2, before any connection is opened), and the message names the module and the reason:
 * a missing job type must never surface later as a job that fails.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../harness/jobstack.js";

const FIXTURES = "./test/fixtures/handler-modules";
const mod = (name: string) => `${FIXTURES}/${name}.ts`;

function start(role: "api" | "worker", modules: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, `services/${role}/main.ts`)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      // Nothing listens on port 1: a process that got past loading would fail differently.
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
      REDIS_URL: "redis://127.0.0.1:1",
      AMQP_URL: "amqp://guest:guest@127.0.0.1:1",
      API_TOKEN: "a-token-of-sixteen-chars",
      HEALTH_PORT: "0",
      PORT: "0",
      LOG_LEVEL: "warn",
      JOB_HANDLER_MODULES: modules,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output })));
}

const cases: { name: string; modules: string; message: RegExp }[] = [
  { name: "a file that does not exist", modules: "./handlers/missing.ts", message: /handler module \.\/handlers\/missing\.ts: file not found \(/ },
  { name: "a package that is not installed", modules: "@acme/missing-handlers", message: /handler module @acme\/missing-handlers: package not found/ },
  { name: "a module without the expected export", modules: mod("no-export"), message: /handler module \.\/test\/fixtures\/handler-modules\/no-export\.ts: exports no handler/ },
  {
    name: "a type registered twice",
    modules: `${mod("greet")},${mod("greet-again")}`,
    message: /handler module \.\/test\/fixtures\/handler-modules\/greet-again\.ts: job type "greet" is already registered \(by \.\/test\/fixtures\/handler-modules\/greet\.ts\)/,
  },
  { name: "a module that throws at import", modules: mod("throws"), message: /handler module \.\/test\/fixtures\/handler-modules\/throws\.ts: failed to load: INVOICE_SMTP_HOST is not set/ },
];

describe.each(["worker", "api"] as const)("the %s process refuses to start with", (role) => {
  it.each(cases)("$name", { timeout: 60_000 }, async ({ modules, message }) => {
    const { code, output } = await start(role, modules);
    expect(output).toMatch(new RegExp(`${role} failed to start: ${message.source}`));
    expect(code, output).toBe(2);
  });
});

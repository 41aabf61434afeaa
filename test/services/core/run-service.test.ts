/**
 * runService's exit codes on a real child process (docs/services-contract.md, "Health and
 * shutdown"): 0 after a clean stop, 1 when a close step or the start fails (every close step
 * still runs), 130 when a second signal forces the exit, whichever signal it is.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../support/processes/run-service-child.ts");

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", () => output.includes("started") && resolve());
    void exited.then(() => reject(new Error(`exited before start:\n${output}`)));
  });
  started.catch(() => undefined); // awaited only by the tests that expect a start
  return { child, exited, started, output: () => output };
}

describe("runService", () => {
  it("first SIGTERM: runs every close step in order, exits 0", async () => {
    const s = start({ CLOSE_MS: "200" });
    await s.started;
    s.child.kill("SIGTERM");
    expect(await s.exited, s.output()).toBe(0);
    expect(s.output()).toMatch(/closed: slow\n(.*\n)*closed: timer/);
  });

  it.each(["SIGINT", "SIGTERM"] as const)("a second signal (%s) exits at once with 130", async (second) => {
    const s = start({ CLOSE_MS: "30000" });
    await s.started;
    s.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    s.child.kill(second);
    expect(await s.exited, s.output()).toBe(130);
    expect(s.output()).not.toContain("closed: slow");
  });

  it("a failing close step: the later steps still run, exit 1", async () => {
    const s = start({ CLOSE_FAILS: "1" });
    await s.started;
    s.child.kill("SIGINT");
    expect(await s.exited, s.output()).toBe(1);
    expect(s.output()).toContain("closed: timer");
    expect(s.output()).toMatch(/shutdown failed: slow: close refused/);
  });

  it("a failing start: closes what was opened, exits 1", async () => {
    const s = start({ START_FAILS: "1" });
    expect(await s.exited, s.output()).toBe(1);
    expect(s.output()).toContain("start refused");
    expect(s.output()).toContain("closed: timer");
  });
});

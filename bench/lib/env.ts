/**
 * What the benchmarks run on and talk to: the repository root, the machine's shared servers
 * (loopback only), free ports, child processes with hard timeouts, and a machine description
 * for the results file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Loopback only. Overridable for another machine, but the defaults are the shared local servers.
export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
/** A Redis database index of its own; every key the benchmark writes there carries its run prefix and is deleted afterwards. */
export const REDIS_DB = Number(process.env.BENCH_REDIS_DB ?? 13);
export const AMQP_URL = process.env.BENCH_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const AMQP_PORT = Number(new URL(AMQP_URL).port || 5672);

export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  /** 1-minute load average when the run started: the machine is shared. */
  readonly loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
  };
}

/** A free TCP port on 127.0.0.1, never one of the shared servers' (the tests' helper serves both). */
export { spareport as freePort } from "../../harness/ports.js";

/** The value after `flag` on the command line (`--runs 5` → "5"), or undefined. */
export function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns true; throws `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** The last 20 kB of stdout and stderr together, for error messages. */
  output(): string;
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

/**
 * `BENCH_CPU_PROF=<dir>`: every child also writes V8 CPU profiles to `<dir>/<name>/` when it exits
 * (`node --cpu-prof`): one file per thread, since tsx's loader runs in a worker thread of its own
 * (the largest file is the main thread). `npx tsx bench/lib/profile-top.ts <file>` prints the top.
 */
function profileFlags(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, name.replace(/[^a-z0-9-]+/gi, "-"))}`] : [];
}

/** Spawns `node --import tsx <script>` from the repository root, with exactly `env` plus PATH/HOME. */
export function spawnTsx(name: string, script: string, args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [...profileFlags(name), "--import", "tsx", path.resolve(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  const c: Child = {
    name,
    process: child,
    output: () => out,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(t);
      }
    },
  };
  live.add(c);
  void exited.then(() => live.delete(c));
  return c;
}

/** Stops every child this process started and is still running (SIGTERM, then SIGKILL). */
export async function stopAllChildren(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(graceMs)));
}

/**
 * Runs `node --import tsx <script>` to completion with a hard timeout and returns its stdout.
 * Rejects with the child's output when it fails or times out.
 */
export async function runTsx(script: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<{ stdout: string; wallMs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", path.resolve(ROOT, script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  if (code !== 0) {
    const why = signal === "SIGKILL" ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
    throw new Error(`${script} ${args.join(" ")} ${why}:\n${stderr.slice(-4000)}`);
  }
  return { stdout, wallMs };
}

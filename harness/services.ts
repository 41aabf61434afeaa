/**
 * The real api and worker processes for the chaos, hostile-input and security tests, with every
 * line they print kept (the security test scans them for secrets) and their memory readable.
 *
 *   const api = startService("api", env);   await api.ready;   ... api.kill("SIGKILL") ...
 *
 * Spawned as `node --import tsx services/<kind>/main.ts` (no npx wrapper, so signals reach the
 * process itself). Every process still running when the test process exits is SIGKILLed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./jobstack.js";
import { waitUntil } from "./ports.js";

export type ServiceKind = "api" | "worker";

export interface ServiceProcess {
  readonly kind: ServiceKind;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every line printed so far (stdout and stderr), in order. */
  readonly lines: string[];
  /** Resolves with the exit code, or the signal's name, once the process is gone. */
  readonly exited: Promise<number | string>;
  readonly running: () => boolean;
  kill(signal?: NodeJS.Signals): void;
  /** Resident set size in bytes (from /proc), or null once the process is gone. */
  rss(): number | null;
}

const live = new Set<ServiceProcess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** Bytes kept per process: the oldest lines go first (a chaos run at `warn` prints far less). */
const MAX_LOG_CHARS = 20_000_000;

export function startService(kind: ServiceKind, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, `services/${kind}/main.ts`)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let chars = 0;
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = "";
    stream.on("data", (d: Buffer) => {
      const parts = (partial + d.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        chars += line.length;
      }
      while (chars > MAX_LOG_CHARS && lines.length > 1) chars -= lines.shift()!.length;
    });
    stream.on("end", () => {
      if (partial) lines.push(partial);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")));
  const running = () => child.exitCode === null && child.signalCode === null;
  const proc: ServiceProcess = {
    kind,
    pid: child.pid!,
    child,
    lines,
    exited,
    running,
    kill: (signal = "SIGKILL") => {
      if (running()) child.kill(signal);
    },
    rss: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        return m ? Number(m[1]) * 1024 : null;
      } catch {
        return null;
      }
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** The last lines a process printed, for assertion messages. */
export function tailOf(p: ServiceProcess, n = 40): string {
  return `--- last ${n} lines of ${p.kind} ${p.pid} ---\n${p.lines.slice(-n).join("\n")}`;
}

/** Waits until an api answers /healthz on `port` (or throws with its output). */
export async function waitHealthy(p: ServiceProcess, port: number, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `${p.kind} ${p.pid} /healthz on ${port}`,
    async () => {
      if (!p.running()) throw new Error(`exited with ${await p.exited}`);
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return r.status === 200;
    },
    timeoutMs,
    () => tailOf(p),
  );
}

/** Waits until a worker logged "worker started" (it consumes from then on). */
export async function waitWorkerStarted(p: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    `worker ${p.pid} started`,
    async () => {
      if (!p.running()) throw new Error(`exited with ${await p.exited}`);
      return p.lines.some((l) => l.includes('"worker started"'));
    },
    timeoutMs,
    () => tailOf(p),
  );
}

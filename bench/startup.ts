/**
 * Start-up time and memory of the api and the worker, run through tsx (what the image does today,
 * services/Dockerfile) and as JavaScript compiled ahead of time (issue 12 asks for both ways):
 *
 *   npx tsx bench/startup.ts [--runs N]
 *
 * The compiled variant is made here with esbuild (tsx's own transpiler, file by file, no
 * bundling) into dist/ (git-ignored, removed again at the end), with the non-TypeScript files the services read at start
 * (the dashboard, the migrations) copied beside it. Each run spawns one process against the
 * machine's Postgres (a database of its own, migrated), Redis and RabbitMQ and measures from spawn until `/readyz` answers 200,
 * then the resident set (VmRSS) and the CPU time used so far, and stops it with SIGTERM. The
 * variants alternate run by run, so a noisy neighbour hits both alike. Medians are printed.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createTestDatabase, deleteQueueTopology } from "../harness/jobstack.js";
import { AMQP_URL, argValue, freePort, REDIS_HOST, REDIS_PORT, ROOT, sleep } from "./lib/env.js";
import { median } from "./lib/stats.js";

const RUNS = Number(argValue("--runs") ?? 7);
const DIST = path.join(ROOT, "dist");

/** Transpiles services/ to dist/services/ file by file and copies every other file beside it. */
function compile(): void {
  rmSync(DIST, { recursive: true, force: true });
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith(".ts")) sources.push(path.relative(ROOT, file));
      else {
        mkdirSync(path.join(DIST, path.dirname(path.relative(ROOT, file))), { recursive: true });
        cpSync(file, path.join(DIST, path.relative(ROOT, file)));
      }
    }
  };
  walk(path.join(ROOT, "services"));
  execFileSync(path.join(ROOT, "node_modules/.bin/esbuild"), [...sources, "--outdir=dist/services", "--outbase=services", "--format=esm", "--platform=node", "--target=node20", "--log-level=warning"], { cwd: ROOT });
}

type Variant = "tsx" | "compiled";
type Role = "api" | "worker";

interface Sample {
  readonly readyMs: number;
  readonly rssMiB: number;
  readonly cpuMs: number;
}

/** utime + stime of a process in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiBOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.replace(/\D+/g, "")) / 1024;
}

async function startOnce(variant: Variant, role: Role): Promise<Sample> {
  const port = await freePort();
  const entry = variant === "tsx" ? ["--import", "tsx", `services/${role}/main.ts`] : [`dist/services/${role}/main.js`];
  const queue = `jobstack-bench-startup-${randomUUID()}`;
  const started = performance.now();
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://${REDIS_HOST}:${REDIS_PORT}/13`,
      AMQP_URL,
      JOB_QUEUE: queue,
      LOG_LEVEL: "warn",
      API_TOKEN: randomUUID(),
      ...(role === "api" ? { PORT: String(port), HOST: "127.0.0.1" } : { HEALTH_PORT: String(port) }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const keep = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant} ${role} exited ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error(`${variant} ${role} not ready after 60 s: ${stderr}`);
      await sleep(10);
    }
    const readyMs = performance.now() - started;
    return { readyMs, rssMiB: rssMiBOf(child.pid!), cpuMs: cpuMsOf(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await deleteQueueTopology(queue, AMQP_URL);
  }
}

compile();
const db = await createTestDatabase();
const databaseUrl = db.url;
const samples = new Map<string, Sample[]>();
try {
  for (let run = 0; run < RUNS; run++) {
    for (const role of ["api", "worker"] as const) {
      for (const variant of (run % 2 === 0 ? ["tsx", "compiled"] : ["compiled", "tsx"]) as Variant[]) {
        const key = `${role} ${variant}`;
        samples.set(key, [...(samples.get(key) ?? []), await startOnce(variant, role)]);
      }
    }
  }
} finally {
  await db.drop();
  rmSync(DIST, { recursive: true, force: true });
}
console.log(`start-up to /readyz 200, medians of ${RUNS} runs (Node ${process.version}):`);
for (const [key, s] of samples) {
  console.log(
    `${key.padEnd(16)} ready ${median(s.map((x) => x.readyMs)).toFixed(0)} ms, RSS ${median(s.map((x) => x.rssMiB)).toFixed(0)} MiB, CPU ${median(s.map((x) => x.cpuMs)).toFixed(0)} ms`,
  );
}

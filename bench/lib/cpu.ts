/**
 * CPU time per component during a benchmark run, from /proc (Linux; elsewhere it reports nothing).
 *
 * On a 2-core machine every system in bench/jobs.ts is CPU-bound, so CPU per job explains the
 * throughput ratios, and a CPU *time* is far less disturbed by busy neighbours than a wall time.
 * Attribution: the system's own processes by pid (api, workers), Postgres backends by the
 * database name in their process title (`postgres: user db host(port) state`), the bench process
 * itself, and the shared RabbitMQ and Redis servers as whole processes — those two also carry
 * whatever else the machine is doing with them at that moment.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { median } from "./stats.js";

export interface ProcCpu {
  readonly pid: number;
  /** The command line, NUL separators turned into spaces. */
  readonly cmd: string;
  /** user + system CPU time so far, in ms. */
  readonly cpuMs: number;
}

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

/** Every process's CPU time so far; empty where there is no /proc. Processes that vanish mid-read are skipped. */
export function readProcCpu(): ProcCpu[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: ProcCpu[] = [];
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      out.push({ pid: Number(pid), cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim(), cpuMs: parseStatCpuMs(stat) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** user + system time (fields 14 and 15) of a /proc/<pid>/stat line, in ms. The name field may hold spaces and parentheses. */
export function parseStatCpuMs(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), so utime (14) is rest[11] and stime (15) is rest[12].
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read CPU times from "${stat.slice(0, 80)}"`);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

export interface CpuAttribution {
  /** Component name → process ids (the system's own child processes). */
  readonly pids: Readonly<Record<string, readonly number[]>>;
  /** Postgres database whose backends count as "postgres (own database)". */
  readonly database?: string;
}

/**
 * CPU ms per component between two readings. Processes that started in between count from 0
 * (a Postgres backend opened during the run); processes that ended in between are lost, which
 * none of the attributed ones do while a run lasts.
 */
export function attributeCpu(before: readonly ProcCpu[], after: readonly ProcCpu[], how: CpuAttribution): Record<string, number> {
  const start = new Map(before.map((p) => [p.pid, p.cpuMs]));
  const byPid = new Map<number, string>();
  for (const [name, pids] of Object.entries(how.pids)) for (const pid of pids) byPid.set(pid, name);
  const out: Record<string, number> = {};
  for (const name of Object.keys(how.pids)) out[name] = 0;
  if (how.database) out["postgres (own database)"] = 0;
  for (const p of after) {
    const delta = Math.max(0, p.cpuMs - (start.get(p.pid) ?? 0));
    let name = byPid.get(p.pid);
    if (!name && how.database && p.cmd.startsWith("postgres: ") && p.cmd.split(" ").includes(how.database)) name = "postgres (own database)";
    if (name) out[name] = (out[name] ?? 0) + delta;
  }
  return out;
}

/** Median CPU ms per job of each component over the samples, plus "total" (the median of the per-run sums). */
export function cpuPerJob(samples: readonly { readonly cpuMs: Readonly<Record<string, number>> }[], count: number): Record<string, number> {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.cpuMs)))];
  if (names.length === 0) return {};
  const out: Record<string, number> = {};
  for (const name of names) out[name] = median(samples.map((s) => (s.cpuMs[name] ?? 0) / count));
  out.total = median(samples.map((s) => Object.values(s.cpuMs).reduce((a, b) => a + b, 0) / count));
  return out;
}

/**
 * The pid of the process listening on 127.0.0.1/0.0.0.0:`port` (to find the shared RabbitMQ and
 * Redis servers without guessing from command lines: fault tests run throwaway nodes beside
 * them). Reads /proc/net/tcp{,6} for the socket inode, then /proc/<pid>/fd for its owner.
 */
export function listenerPid(port: number): number | null {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address "0100007F:1538", f[3] state ("0A" = LISTEN), f[9] inode.
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1]!.split(":")[1] ?? "", 16) === port) inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

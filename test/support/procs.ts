/**
 * Process helpers for throwaway servers: run a command as another user, find a process tree,
 * kill it, and make sure nothing outlives the test process.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";

export interface UnixUser {
  readonly uid: number;
  readonly gid: number;
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/** The user to run a service as: the named system user when we are root, otherwise ourselves. */
export function serviceUser(name: string): UnixUser | undefined {
  if (!isRoot) return undefined;
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { uid, gid };
}

export function chownTree(dir: string, user: UnixUser | undefined): void {
  if (user === undefined) return;
  execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Every descendant of `pid` (children, grandchildren, ...), read from /proc. Linux only. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Field 2 (comm) may hold spaces and parentheses; ppid is the 2nd field after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(rest[1]);
    const list = parentOf.get(ppid) ?? [];
    list.push(Number(entry));
    parentOf.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const c of parentOf.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** SIGKILL a process and all its descendants (what a container kill or OOM kill does). */
export function killTree(pid: number): void {
  const all = [pid, ...descendants(pid)];
  for (const p of all) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

export async function waitDead(pids: readonly number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !alive(p))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`processes ${pids.filter(alive).join(", ")} still alive after ${timeoutMs} ms`);
}

// ---- last-resort cleanup: nothing a test started may outlive the test process -------------

interface Live {
  pid(): number | undefined;
  dir: string;
}
const live = new Set<Live>();

export function track(entry: Live): () => void {
  live.add(entry);
  return () => live.delete(entry);
}

function cleanupAll(): void {
  for (const entry of live) {
    const pid = entry.pid();
    if (pid !== undefined && alive(pid)) killTree(pid);
    try {
      rmSync(entry.dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  live.clear();
}

process.on("exit", cleanupAll);
// Vitest ends its fork workers with SIGTERM, which skips "exit" handlers: clean up, then let the
// signal do what it would have done (unless someone else handles it).
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.once(sig, () => {
    cleanupAll();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

/**
 * Redis is a cache here (Postgres is the source of truth): it must evict with allkeys-lru when
 * full, and its maxmemory must leave room inside the container's memory limit for
 * fragmentation and client buffers, or the kernel's OOM killer ends it instead.
 */
import { roleName, workloads, type Workload } from "../model.js";
import type { Rule } from "../types.js";
import { violation } from "../violation.js";

/** The value after `--name` in redis-server's arguments (also inside a `sh -c` string). */
function argument(w: Workload, name: string): string | undefined {
  const tokens = w.argv.flatMap((a) => a.split(/\s+/)).map((t) => t.replace(/^["']|["']$/g, ""));
  const i = tokens.lastIndexOf(`--${name}`);
  return i >= 0 ? tokens[i + 1] : undefined;
}

/** redis.conf memory units: 1k = 1000, 1kb = 1024, and so on; bare numbers are bytes. */
export function redisBytes(value: string): number | undefined {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase();
  const factor: Record<string, number> = { "": 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * factor[unit]!;
}

export const redisEviction: Rule = {
  id: "redis-eviction",
  rationale: "A full cache must evict old entries (allkeys-lru), not refuse writes, and must hit maxmemory before the container's memory limit.",
  fix: "run redis-server with `--maxmemory <bytes below the memory limit> --maxmemory-policy allkeys-lru` (the preset's redis.policy and maxmemoryPercent)",
  check(stack) {
    return workloads(stack)
      .filter((w) => w.role === "redis")
      .flatMap((w) => {
        const out = [];
        const policy = argument(w, "maxmemory-policy");
        if (policy !== "allkeys-lru") {
          out.push(violation(this, stack.name, w.where, policy ? `${roleName(w)} runs with maxmemory-policy ${policy}, not allkeys-lru` : `${roleName(w)} sets no maxmemory-policy (Redis defaults to noeviction)`));
        }
        const raw = argument(w, "maxmemory");
        const bytes = raw === undefined ? undefined : redisBytes(raw);
        if (bytes === undefined || bytes <= 0) {
          out.push(violation(this, stack.name, w.where, raw === undefined ? `${roleName(w)} sets no maxmemory` : `${roleName(w)} has an unreadable maxmemory "${raw}"`));
        } else if (w.memoryLimitBytes === undefined) {
          out.push(violation(this, stack.name, w.where, `${roleName(w)} has maxmemory ${bytes} bytes but no container memory limit to fit it in`));
        } else if (bytes >= w.memoryLimitBytes) {
          out.push(violation(this, stack.name, w.where, `${roleName(w)} maxmemory (${bytes} bytes) is not below its container memory limit (${w.memoryLimitBytes} bytes)`));
        }
        return out;
      });
  },
};

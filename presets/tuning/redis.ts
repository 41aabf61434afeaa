/**
 * redis-server arguments for the status cache.
 *
 * maxmemory = floor(containerMemoryMiB × 1 MiB × maxmemoryPercent / 100) bytes.
 *
 * Why not 100 %: `maxmemory` bounds `used_memory` (the dataset and its bookkeeping) only. The
 * process's RSS is larger by allocator fragmentation (jemalloc; `mem_fragmentation_ratio` of
 * 1.1–1.5 is normal), client query/output buffers and replication buffers, which Redis does not
 * count against maxmemory (https://redis.io/docs/latest/develop/reference/eviction/: "set
 * maxmemory lower than the available memory ... to leave room for the overhead"). Hence
 * maxmemoryPercent ≤ 90 and at least REDIS_MIN_HEADROOM_MIB left over.
 *
 * Persistence is off (`--save "" --appendonly no`): Redis is a cache here and Postgres the
 * source of truth (with Redis empty every answer is still right: README.md "The job system",
 * docs/services-contract.md "Cache"). That also means
 * Redis never forks for BGSAVE/AOF rewrite, whose copy-on-write pages could otherwise need up to
 * the whole dataset again (https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/),
 * which a percentage this high could not absorb.
 *
 * `maxmemory-samples`: Redis's LRU/LFU are approximated by sampling that many keys per eviction
 * (default 5; 10 is close to true LRU at more CPU). Redis accepts 1..64.
 */
import { fmtNumber, smallestFitting, type TuningIssue } from "./issues.js";
import { MIB } from "./units.js";

/** Every policy Redis 7 accepts; the preset schema builds its enum from this list. */
export const REDIS_EVICTION_POLICIES = [
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "noeviction",
] as const;

export type RedisEvictionPolicy = (typeof REDIS_EVICTION_POLICIES)[number];

export interface RedisInput {
  readonly containerMemoryMiB: number;
  /** In (0, 90]. */
  readonly maxmemoryPercent: number;
  readonly policy: RedisEvictionPolicy;
  /** maxmemory-samples, 1..64. */
  readonly samples: number;
}

export interface RedisTuning {
  readonly maxmemoryBytes: number;
  /** redis-server command-line arguments, e.g. ["--maxmemory", "402653184", ...]. */
  readonly args: string[];
  /** The same settings as redis.conf directive → value (what CONFIG GET returns). */
  readonly config: Record<string, string>;
}

export const REDIS_MAX_PERCENT = 90;
/**
 * Fragmentation, client buffers and the process itself: an idle redis-server 7.0 has ~7 MiB RSS
 * (measured on this project's CI machine), so about twice that. The ≤ 90 % rule covers large
 * containers.
 */
export const REDIS_MIN_HEADROOM_MIB = 16;
export const REDIS_SAMPLES_MIN = 1;
export const REDIS_SAMPLES_MAX = 64;

const bytes = (i: RedisInput): number => Math.floor((i.containerMemoryMiB * MIB * i.maxmemoryPercent) / 100);

export function redisIssues(i: RedisInput): TuningIssue[] {
  const issues: TuningIssue[] = [];
  if (!(i.containerMemoryMiB > 0)) {
    issues.push({ path: "redis.memoryMiB", message: `redis.memoryMiB (${i.containerMemoryMiB}) must be a positive number of MiB` });
  }
  if (!(i.maxmemoryPercent > 0 && i.maxmemoryPercent <= REDIS_MAX_PERCENT)) {
    issues.push({
      path: "redis.maxmemoryPercent",
      message: `redis.maxmemoryPercent (${fmtNumber(i.maxmemoryPercent)}) must be above 0 and at most ${REDIS_MAX_PERCENT}: maxmemory does not count fragmentation and client buffers, which need the rest of redis.memoryMiB`,
    });
  } else if (i.containerMemoryMiB > 0) {
    const leftMiB = i.containerMemoryMiB - bytes(i) / MIB;
    if (leftMiB < REDIS_MIN_HEADROOM_MIB) {
      const memThatFits = smallestFitting(REDIS_MIN_HEADROOM_MIB / (1 - i.maxmemoryPercent / 100), (mem) => mem - bytes({ ...i, containerMemoryMiB: mem }) / MIB >= REDIS_MIN_HEADROOM_MIB);
      issues.push({
        path: "redis.maxmemoryPercent",
        message:
          `redis.maxmemoryPercent (${fmtNumber(i.maxmemoryPercent)}%) of redis.memoryMiB (${i.containerMemoryMiB}) leaves ${fmtNumber(Number(leftMiB.toFixed(1)))} MiB ` +
          `for fragmentation, client buffers and the process; at least ${REDIS_MIN_HEADROOM_MIB} MiB is needed: lower redis.maxmemoryPercent or raise redis.memoryMiB to ${memThatFits}`,
      });
    }
  }
  if (!REDIS_EVICTION_POLICIES.includes(i.policy)) {
    issues.push({ path: "redis.policy", message: `redis.policy ("${String(i.policy)}") must be one of ${REDIS_EVICTION_POLICIES.join(", ")}` });
  }
  if (!(Number.isInteger(i.samples) && i.samples >= REDIS_SAMPLES_MIN && i.samples <= REDIS_SAMPLES_MAX)) {
    issues.push({
      path: "redis.samples",
      message: `redis.samples (${i.samples}) must be a whole number from ${REDIS_SAMPLES_MIN} to ${REDIS_SAMPLES_MAX} (Redis's range for maxmemory-samples)`,
    });
  }
  return issues;
}

/** Call only on an input with no `redisIssues`. */
export function redisTuning(i: RedisInput): RedisTuning {
  const maxmemoryBytes = bytes(i);
  const config: Record<string, string> = {
    maxmemory: String(maxmemoryBytes),
    "maxmemory-policy": i.policy,
    "maxmemory-samples": String(i.samples),
    save: "",
    appendonly: "no",
  };
  const args = Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]);
  return { maxmemoryBytes, args, config };
}

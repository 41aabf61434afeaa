// Write-through cache of job rows in Redis. Postgres is the source of truth: a miss, an
// evicted key or a Redis outage only costs a database read, never a wrong answer.
// Every entry carries the row's version, and the write is a Lua script that keeps the newer
// version, so two writers that commit A then B but reach Redis as B then A leave B in place.
//
// Known limit: if the newer entry is evicted (allkeys-lru) *between* the two delayed writes,
// the older write finds no entry to compare with and lands; and a write that fails while Redis
// blips leaves the previous entry in place. Both can only leave a state that is not settled
// (PENDING, RUNNING, FAILED — a settled job has no later write to lose), so such entries live
// only `activeTtlSeconds` (CACHE_ACTIVE_TTL_SECONDS, 15 s by default): stale answers are
// bounded to that, and settled jobs, which clients poll for, keep the long TTL.

import { Redis } from "ioredis";
import { serviceEnvDefault } from "./env-contract.js";
import { coerceError } from "./errors.js";
import type { Job } from "./jobs/types.js";

/** Return codes of PUT_IF_NEWER; mirror the script's header. */
export enum CachePutResult {
  /** The cache already holds this version or a newer one; nothing written. */
  Stale = 0,
  Written = 1,
}

/**
 * KEYS[1]  the job's hash key
 * ARGV[1]  version of the row being written (integer)
 * ARGV[2]  the job as JSON
 * ARGV[3]  TTL in seconds
 * Returns  1 written, 0 stale (the stored version is the same or newer; entry untouched)
 */
export const PUT_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'j', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

type RedisWithScripts = Redis & {
  jobstackPutIfNewer(key: string, version: string, json: string, ttl: string): Promise<number>;
};

/** A Redis client tuned for a cache that may be down: fail fast, never queue, keep reconnecting. */
export function createRedis(url: string, onError?: (err: Error) => void): Redis {
  const redis = new Redis(url, {
    // When Redis is down, commands fail at once instead of piling up; callers fall back to Postgres.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    lazyConnect: false,
    // Commands issued in the same turn of the event loop go out in one write: a batch of claims
    // or completions commits together, so its jobs' cache writes leave together (one syscall,
    // one read of replies) instead of one socket write each, the largest cost in the worker's
    // CPU profile (bench/results/throughput-notes.md).
    enableAutoPipelining: true,
  });
  // ioredis emits 'error' on every failed reconnect; an unhandled 'error' would crash the process.
  redis.on("error", (err) => onError?.(coerceError(err)));
  return redis;
}

/**
 * Resolves true once the client is ready, false after `timeoutMs`. With the offline queue off,
 * commands sent before the first connection fail; waiting briefly at start avoids a burst of
 * needless cache misses, and never blocks start-up for long when Redis is down.
 */
export async function waitForRedis(redis: Redis, timeoutMs = 2_000): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    redis.on("ready", onReady);
  });
}

/** States no transition leaves: their cache entries can never be superseded. */
const SETTLED: ReadonlySet<Job["state"]> = new Set(["COMPLETED", "CANCELLED"]);

export interface JobCacheOptions {
  /** TTL of a settled job (COMPLETED, CANCELLED). @default CACHE_TTL_SECONDS' default (env-contract.ts) */
  readonly ttlSeconds?: number;
  /** TTL of a job that can still change; bounds how long a lost or reordered write can show. @default CACHE_ACTIVE_TTL_SECONDS' default */
  readonly activeTtlSeconds?: number;
  /** @default CACHE_PREFIX's default, "jobstack:" */
  readonly prefix?: string;
  readonly onError?: (err: Error, op: "get" | "put" | "delete") => void;
}

export class JobCache {
  private readonly ttl: number;
  private readonly activeTtl: number;
  private readonly prefix: string;
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly options: JobCacheOptions = {},
  ) {
    this.ttl = options.ttlSeconds ?? serviceEnvDefault("CACHE_TTL_SECONDS");
    this.activeTtl = Math.min(this.ttl, options.activeTtlSeconds ?? serviceEnvDefault("CACHE_ACTIVE_TTL_SECONDS"));
    this.prefix = options.prefix ?? serviceEnvDefault("CACHE_PREFIX");
    if (!("jobstackPutIfNewer" in redis)) redis.defineCommand("jobstackPutIfNewer", { numberOfKeys: 1, lua: PUT_IF_NEWER });
    this.redis = redis as RedisWithScripts;
  }

  key(id: string): string {
    return `${this.prefix}job:${id}`;
  }

  /** Writes the job unless a newer version is cached. Never throws: Redis is optional. */
  async put(job: Job): Promise<CachePutResult | null> {
    try {
      const ttl = SETTLED.has(job.state) ? this.ttl : this.activeTtl;
      const r = await this.redis.jobstackPutIfNewer(this.key(job.id), String(job.version), JSON.stringify(job), String(ttl));
      return r === 1 ? CachePutResult.Written : CachePutResult.Stale;
    } catch (err) {
      this.options.onError?.(coerceError(err), "put");
      return null;
    }
  }

  /**
   * put() for several jobs in one pipeline (one write to the socket, one round trip): a batch
   * submission's new jobs. Per job, as put() answers; never throws.
   */
  async putMany(jobs: readonly Job[]): Promise<(CachePutResult | null)[]> {
    if (jobs.length === 0) return [];
    try {
      const pipeline = this.redis.pipeline();
      for (const job of jobs) {
        const ttl = SETTLED.has(job.state) ? this.ttl : this.activeTtl;
        (pipeline as unknown as RedisWithScripts).jobstackPutIfNewer(this.key(job.id), String(job.version), JSON.stringify(job), String(ttl));
      }
      const replies = (await pipeline.exec()) ?? [];
      return jobs.map((_, i) => {
        const [err, r] = replies[i] ?? [new Error("no reply"), null];
        if (err) {
          this.options.onError?.(coerceError(err), "put");
          return null;
        }
        return r === 1 ? CachePutResult.Written : CachePutResult.Stale;
      });
    } catch (err) {
      this.options.onError?.(coerceError(err), "put");
      return jobs.map(() => null);
    }
  }

  /** The cached job, or null on a miss, a damaged entry, or when Redis is unreachable. */
  async get(id: string): Promise<Job | null> {
    try {
      const raw = await this.redis.hget(this.key(id), "j");
      return raw === null ? null : (JSON.parse(raw) as Job);
    } catch (err) {
      this.options.onError?.(coerceError(err), "get");
      return null;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.redis.del(this.key(id));
    } catch (err) {
      this.options.onError?.(coerceError(err), "delete");
    }
  }

  /** Deletes the entries of several jobs in one command (retention). */
  async deleteMany(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.redis.del(...ids.map((id) => this.key(id)));
    } catch (err) {
      this.options.onError?.(coerceError(err), "delete");
    }
  }

  /** True when Redis answers PING (readiness). */
  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === "PONG";
    } catch {
      return false;
    }
  }
}

/**
 * Cache-aside read: Redis first, Postgres on a miss (refilling the cache). The answer is
 * right whatever state Redis is in.
 */
export async function readJob(id: string, cache: JobCache, load: (id: string) => Promise<Job | null>): Promise<Job | null> {
  const cached = await cache.get(id);
  if (cached) return cached;
  const job = await load(id);
  if (job) await cache.put(job);
  return job;
}

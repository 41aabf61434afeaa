import { describe, expect, it } from "vitest";
import { REDIS_EVICTION_POLICIES, redisIssues, redisTuning, type RedisEvictionPolicy, type RedisInput } from "../../presets/tuning/redis.js";

const ok: RedisInput = { containerMemoryMiB: 512, maxmemoryPercent: 75, policy: "allkeys-lru", samples: 5 };

describe("redisTuning", () => {
  it("derives maxmemory in bytes and the argument list", () => {
    // 512 MiB × 75 % = 384 MiB = 402653184 bytes
    const t = redisTuning(ok);
    expect(t.maxmemoryBytes).toBe(402_653_184);
    expect(t.args).toEqual([
      "--maxmemory", "402653184",
      "--maxmemory-policy", "allkeys-lru",
      "--maxmemory-samples", "5",
      "--save", "",
      "--appendonly", "no",
    ]);
    expect(t.config).toEqual({ maxmemory: "402653184", "maxmemory-policy": "allkeys-lru", "maxmemory-samples": "5", save: "", appendonly: "no" });
  });

  it("floors to whole bytes", () => {
    // 100 MiB × 33.3 % = 104857600 × 0.333 = 34917580.8 → 34917580
    expect(redisTuning({ ...ok, containerMemoryMiB: 100, maxmemoryPercent: 33.3 }).maxmemoryBytes).toBe(34_917_580);
  });

  it.each(REDIS_EVICTION_POLICIES)("passes policy %s through", (policy) => {
    expect(redisTuning({ ...ok, policy }).config["maxmemory-policy"]).toBe(policy);
    expect(redisIssues({ ...ok, policy })).toEqual([]);
  });
});

describe("redisIssues", () => {
  it("accepts a valid input", () => expect(redisIssues(ok)).toEqual([]));

  it.each([0, 91, 100])("rejects maxmemoryPercent %s", (pct) => {
    expect(redisIssues({ ...ok, maxmemoryPercent: pct })).toEqual([
      {
        path: "redis.maxmemoryPercent",
        message: `redis.maxmemoryPercent (${pct}) must be above 0 and at most 90: maxmemory does not count fragmentation and client buffers, which need the rest of redis.memoryMiB`,
      },
    ]);
  });

  it("rejects too little headroom in a small container, naming redis.memoryMiB", () => {
    // 64 MiB × 80 % = 51.2 MiB, 12.8 MiB left < 16; 80 MiB × 80 % leaves exactly 16
    expect(redisIssues({ ...ok, containerMemoryMiB: 64, maxmemoryPercent: 80 })).toEqual([
      {
        path: "redis.maxmemoryPercent",
        message:
          "redis.maxmemoryPercent (80%) of redis.memoryMiB (64) leaves 12.8 MiB for fragmentation, client buffers and the process; at least 16 MiB is needed: lower redis.maxmemoryPercent or raise redis.memoryMiB to 80",
      },
    ]);
  });

  it("rejects an unknown policy and out-of-range samples", () => {
    expect(redisIssues({ ...ok, policy: "lru" as RedisEvictionPolicy, samples: 65 })).toEqual([
      {
        path: "redis.policy",
        message: 'redis.policy ("lru") must be one of allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl, noeviction',
      },
      { path: "redis.samples", message: "redis.samples (65) must be a whole number from 1 to 64 (Redis's range for maxmemory-samples)" },
    ]);
  });

  it("rejects non-positive memory", () => {
    expect(redisIssues({ ...ok, containerMemoryMiB: 80, maxmemoryPercent: 80 })).toEqual([]);
    expect(redisIssues({ ...ok, containerMemoryMiB: 0 })).toEqual([
      { path: "redis.memoryMiB", message: "redis.memoryMiB (0) must be a positive number of MiB" },
    ]);
  });
});

/**
 * The edges of every range the tuning checks: the last accepted value is accepted and the first
 * refused one is refused, so an off-by-one in a bound (`<` for `<=`) fails a test. Expected
 * values are worked out by hand in the comments.
 */
import { describe, expect, it } from "vitest";
import { jvmIssues, type JvmInput } from "../../presets/tuning/jvm.js";
import { nodeIssues } from "../../presets/tuning/node.js";
import { rabbitmqIssues, type RabbitmqInput } from "../../presets/tuning/rabbitmq.js";
import { redisIssues, type RedisInput } from "../../presets/tuning/redis.js";

const paths = (issues: readonly { path: string }[]) => issues.map((i) => i.path);

describe("redis bounds", () => {
  const ok: RedisInput = { containerMemoryMiB: 512, maxmemoryPercent: 75, policy: "allkeys-lru", samples: 5 };

  it("accepts maxmemoryPercent 90 (512 MiB leaves 51.2 MiB of headroom), refuses 90.5", () => {
    expect(redisIssues({ ...ok, maxmemoryPercent: 90 })).toEqual([]);
    expect(paths(redisIssues({ ...ok, maxmemoryPercent: 90.5 }))).toEqual(["redis.maxmemoryPercent"]);
  });

  it("accepts samples 1 and 64, refuses 0, 65 and 2.5", () => {
    for (const samples of [1, 64]) expect(redisIssues({ ...ok, samples }), String(samples)).toEqual([]);
    for (const samples of [0, 65, 2.5]) expect(paths(redisIssues({ ...ok, samples })), String(samples)).toEqual(["redis.samples"]);
  });
});

describe("rabbitmq bounds", () => {
  const ok: RabbitmqInput = { containerMemoryMiB: 1024, watermarkPercent: 60, diskFreeLimitMiB: 1024, consumerTimeoutMs: 1_800_000, queueType: "quorum" };

  it("accepts watermarkPercent 90, refuses 90.5", () => {
    expect(rabbitmqIssues({ ...ok, watermarkPercent: 90 })).toEqual([]);
    expect(paths(rabbitmqIssues({ ...ok, watermarkPercent: 90.5 }))).toEqual(["rabbitmq.watermarkPercent"]);
  });

  it("accepts a watermark of exactly 128 MiB (50 % of 256 MiB), refuses one just below", () => {
    expect(rabbitmqIssues({ ...ok, containerMemoryMiB: 256, watermarkPercent: 50 })).toEqual([]);
    expect(paths(rabbitmqIssues({ ...ok, containerMemoryMiB: 255, watermarkPercent: 50 }))).toEqual(["rabbitmq.watermarkPercent"]);
  });

  it("accepts the smallest disk free limit (50 MiB) and consumer timeout (60 s), refuses one less", () => {
    expect(rabbitmqIssues({ ...ok, diskFreeLimitMiB: 50, consumerTimeoutMs: 60_000 })).toEqual([]);
    expect(paths(rabbitmqIssues({ ...ok, diskFreeLimitMiB: 49, consumerTimeoutMs: 59_999 }))).toEqual(["rabbitmq.diskFreeLimitMiB", "rabbitmq.consumerTimeoutMs"]);
  });
});

describe("node bounds", () => {
  const ok = { containerMemoryMiB: 512, heapPercent: 70, uvThreadpoolSize: 8 };

  it("accepts uvThreadpoolSize 1 and 1024, refuses 0 and 1025", () => {
    for (const uvThreadpoolSize of [1, 1024]) expect(nodeIssues({ ...ok, uvThreadpoolSize }, "api"), String(uvThreadpoolSize)).toEqual([]);
    for (const uvThreadpoolSize of [0, 1025]) expect(paths(nodeIssues({ ...ok, uvThreadpoolSize }, "api")), String(uvThreadpoolSize)).toEqual(["api.uvThreadpoolSize"]);
  });

  it("accepts exactly 64 MiB outside the heap and a heap of exactly 64 MiB", () => {
    expect(nodeIssues({ ...ok, containerMemoryMiB: 256, heapPercent: 75 }, "worker")).toEqual([]); // 192 MiB heap, 64 left
    expect(nodeIssues({ ...ok, containerMemoryMiB: 128, heapPercent: 50 }, "worker")).toEqual([]); // 64 MiB heap, 64 left
  });

  it("only suggests raising the memory when no heap share leaves 64 MiB", () => {
    // 60 MiB is below 64 whatever the heap: no percentage helps. The smallest memory that leaves
    // 64 MiB beside a 75 % heap is 253 MiB (heap 189, since 189.75 rounds down; 252 leaves 63).
    const [issue] = nodeIssues({ ...ok, containerMemoryMiB: 60, heapPercent: 75 }, "api");
    expect(issue!.message).toMatch(/: raise api\.memoryMiB to 253$/);
    expect(issue!.message).not.toContain("lower");
  });
});

describe("jvm bounds", () => {
  const g1: JvmInput = { gc: "G1", maxGcPauseMillis: 200, maxRamPercentage: 75, containerMemoryMiB: 1024, containerCpus: 1 };

  it("accepts an initial heap share equal to the maximum, refuses one above it or at 100", () => {
    expect(jvmIssues({ ...g1, initialRamPercentage: 75 })).toEqual([]);
    expect(paths(jvmIssues({ ...g1, initialRamPercentage: 76 }))).toEqual(["worker.jvm.initialRamPercentage"]);
    expect(paths(jvmIssues({ ...g1, initialRamPercentage: 100 }))).toEqual(["worker.jvm.initialRamPercentage"]);
  });

  it("accepts the smallest pause goal (1 ms), region (1 MiB) and GC thread count (1), refuses 0", () => {
    expect(jvmIssues({ ...g1, maxGcPauseMillis: 1, g1RegionSizeMiB: 1, parallelGcThreads: 1 })).toEqual([]);
    expect(paths(jvmIssues({ ...g1, maxGcPauseMillis: 0 }))).toEqual(["worker.jvm.maxGcPauseMillis"]);
    expect(paths(jvmIssues({ ...g1, g1RegionSizeMiB: 0 }))).toEqual(["worker.jvm.g1RegionSizeMiB"]);
    expect(paths(jvmIssues({ ...g1, parallelGcThreads: 0 }))).toEqual(["worker.jvm.parallelGcThreads"]);
  });
});

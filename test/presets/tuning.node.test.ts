import { describe, expect, it } from "vitest";
import { nodeIssues, nodeTuning } from "../../presets/tuning/node.js";

describe("nodeTuning", () => {
  it("derives --max-old-space-size from container memory and heap %", () => {
    // 512 MiB × 70 % = 358.4 → 358
    expect(nodeTuning({ containerMemoryMiB: 512, heapPercent: 70, uvThreadpoolSize: 8 })).toEqual({
      maxOldSpaceSizeMiB: 358,
      nodeOptions: "--max-old-space-size=358",
      env: { NODE_OPTIONS: "--max-old-space-size=358", UV_THREADPOOL_SIZE: "8" },
    });
  });
  it("handles fractional percentages", () => {
    expect(nodeTuning({ containerMemoryMiB: 2048, heapPercent: 62.5, uvThreadpoolSize: 4 }).maxOldSpaceSizeMiB).toBe(1280);
  });
});

describe("nodeIssues", () => {
  const ok = { containerMemoryMiB: 512, heapPercent: 70, uvThreadpoolSize: 8 };
  it("accepts a valid input", () => expect(nodeIssues(ok, "api")).toEqual([]));

  it.each([0, 100, -1])("rejects heapPercent %s under the given prefix", (pct) => {
    expect(nodeIssues({ ...ok, heapPercent: pct }, "worker")).toEqual([
      { path: "worker.heapPercent", message: `worker.heapPercent (${pct}) must be above 0 and below 100` },
    ]);
  });

  it.each([0, 1025, 2.5])("rejects uvThreadpoolSize %s", (n) => {
    expect(nodeIssues({ ...ok, uvThreadpoolSize: n }, "api")).toEqual([
      { path: "api.uvThreadpoolSize", message: `api.uvThreadpoolSize (${n}) must be a whole number from 1 to 1024 (libuv's limit)` },
    ]);
  });

  it("rejects a heap leaving under 64 MiB, naming api.heapPercent and api.memoryMiB", () => {
    // 256 × 90 % = 230 → 26 MiB left; (256 − 64) / 256 = 75 %;
    // 631 − floor(631 × 0.9) = 631 − 567 = 64 is the smallest that fits (630 − 567 = 63).
    expect(nodeIssues({ ...ok, containerMemoryMiB: 256, heapPercent: 90 }, "api")).toEqual([
      {
        path: "api.heapPercent",
        message:
          "api.heapPercent (90%) of api.memoryMiB (256) leaves 26 MiB outside V8's old space; the young generation, code space and Buffers need at least 64 MiB: lower api.heapPercent to 75 or raise api.memoryMiB to 631",
      },
    ]);
  });

  it("rejects an old space below 64 MiB", () => {
    // 128 × 25 % = 32 MiB; 64 / 0.25 = 256
    expect(nodeIssues({ ...ok, containerMemoryMiB: 128, heapPercent: 25 }, "worker")).toEqual([
      {
        path: "worker.heapPercent",
        message: "worker.heapPercent (25%) of worker.memoryMiB (128) gives a 32 MiB heap; at least 64 MiB is needed: raise worker.heapPercent or raise worker.memoryMiB to 256",
      },
    ]);
  });

  it("rejects non-positive memory", () => {
    expect(nodeIssues({ ...ok, containerMemoryMiB: 0 }, "api")).toEqual([
      { path: "api.memoryMiB", message: "api.memoryMiB (0) must be a positive number of MiB" },
    ]);
  });
});

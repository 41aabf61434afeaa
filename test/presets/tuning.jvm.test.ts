import { describe, expect, it } from "vitest";
import { jvmIssues, jvmTuning, type JvmInput } from "../../presets/tuning/jvm.js";

const g1: JvmInput = { gc: "G1", maxGcPauseMillis: 200, maxRamPercentage: 75, containerMemoryMiB: 1024, containerCpus: 1 };

describe("jvmTuning", () => {
  it("G1 with pause goal and region size: explicit collector, percentages, exit on OOM", () => {
    const t = jvmTuning({ ...g1, g1RegionSizeMiB: 4, initialRamPercentage: 50 });
    expect(t.flags).toEqual([
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=200",
      "-XX:G1HeapRegionSize=4m",
      "-XX:MaxRAMPercentage=75",
      "-XX:InitialRAMPercentage=50",
      "-XX:+ExitOnOutOfMemoryError",
    ]);
    expect(t.javaToolOptions).toBe(
      "-XX:+UseG1GC -XX:MaxGCPauseMillis=200 -XX:G1HeapRegionSize=4m -XX:MaxRAMPercentage=75 -XX:InitialRAMPercentage=50 -XX:+ExitOnOutOfMemoryError",
    );
    // 1024 MiB × 75 % = 768 MiB
    expect(t.maxHeapMiB).toBe(768);
  });

  it("G1 without optional flags", () => {
    expect(jvmTuning({ gc: "G1", maxRamPercentage: 75, containerMemoryMiB: 512, containerCpus: 0.5 }).javaToolOptions).toBe(
      "-XX:+UseG1GC -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError",
    );
  });

  it("Parallel with ParallelGCThreads", () => {
    const t = jvmTuning({ gc: "Parallel", parallelGcThreads: 2, maxRamPercentage: 60, containerMemoryMiB: 2048, containerCpus: 2 });
    expect(t.flags).toEqual(["-XX:+UseParallelGC", "-XX:ParallelGCThreads=2", "-XX:MaxRAMPercentage=60", "-XX:+ExitOnOutOfMemoryError"]);
    // 2048 × 0.60 = 1228.8 → 1228
    expect(t.maxHeapMiB).toBe(1228);
  });

  it("ZGC has no pause goal flag; fractional percentages print without trailing zeros", () => {
    const t = jvmTuning({ gc: "ZGC", maxRamPercentage: 62.5, containerMemoryMiB: 4096, containerCpus: 4 });
    expect(t.flags).toEqual(["-XX:+UseZGC", "-XX:MaxRAMPercentage=62.5", "-XX:+ExitOnOutOfMemoryError"]);
    expect(t.maxHeapMiB).toBe(2560);
  });

  it("never emits -Xmx/-Xms and always exactly one collector", () => {
    for (const gc of ["G1", "Parallel", "ZGC"] as const) {
      const flags = jvmTuning({ gc, maxRamPercentage: 70, containerMemoryMiB: 1024, containerCpus: 1 }).flags;
      expect(flags.filter((f) => /^-Xm[xs]/.test(f))).toEqual([]);
      expect(flags.filter((f) => /^-XX:\+Use\w+GC$/.test(f))).toHaveLength(1);
    }
  });
});

describe("jvmIssues", () => {
  it("accepts a valid G1 input", () => expect(jvmIssues({ ...g1, g1RegionSizeMiB: 32 })).toEqual([]));

  it.each([3, 0, 64, 1.5])("rejects G1 region size %s", (size) => {
    expect(jvmIssues({ ...g1, g1RegionSizeMiB: size })).toEqual([
      {
        path: "worker.jvm.g1RegionSizeMiB",
        message: `worker.jvm.g1RegionSizeMiB (${size}) must be a power of two from 1 to 32 MiB (JDK 17's G1 limits): one of 1, 2, 4, 8, 16, 32`,
      },
    ]);
  });

  it("rejects a region size with a non-G1 collector, naming both fields", () => {
    expect(jvmIssues({ gc: "Parallel", g1RegionSizeMiB: 4, maxRamPercentage: 75, containerMemoryMiB: 1024, containerCpus: 1 })).toEqual([
      { path: "worker.jvm.g1RegionSizeMiB", related: ["worker.jvm.gc"], message: "worker.jvm.g1RegionSizeMiB (4) only applies to G1, but worker.jvm.gc is Parallel: remove it (in an environment's overrides: g1RegionSizeMiB: null) or choose G1" },
    ]);
  });

  it("rejects a pause goal with ZGC or Parallel, naming both fields", () => {
    expect(jvmIssues({ ...g1, gc: "ZGC" })).toEqual([
      {
        path: "worker.jvm.maxGcPauseMillis",
        related: ["worker.jvm.gc"],
        message: "worker.jvm.maxGcPauseMillis (200) is a G1 pause goal, but worker.jvm.gc is ZGC: remove the pause goal (in an environment's overrides: maxGcPauseMillis: null) or choose G1",
      },
    ]);
    expect(jvmIssues({ ...g1, gc: "Parallel" })[0]?.message).toContain("but worker.jvm.gc is Parallel");
  });

  it("rejects a non-positive or fractional pause goal", () => {
    expect(jvmIssues({ ...g1, maxGcPauseMillis: 0 })).toEqual([
      { path: "worker.jvm.maxGcPauseMillis", message: "worker.jvm.maxGcPauseMillis (0) must be a whole number of milliseconds, at least 1" },
    ]);
  });

  it.each([0, 100, -5, 120])("rejects maxRamPercentage %s", (pct) => {
    expect(jvmIssues({ ...g1, maxRamPercentage: pct })).toEqual([
      { path: "worker.jvm.maxRamPercentage", message: `worker.jvm.maxRamPercentage (${pct}) must be above 0 and below 100` },
    ]);
  });

  it("rejects initialRamPercentage above maxRamPercentage, naming both", () => {
    expect(jvmIssues({ ...g1, initialRamPercentage: 80 })).toEqual([
      {
        path: "worker.jvm.initialRamPercentage",
        message:
          "worker.jvm.initialRamPercentage (80) must not exceed worker.jvm.maxRamPercentage (75): the initial heap cannot be larger than the maximum",
      },
    ]);
    expect(jvmIssues({ ...g1, initialRamPercentage: 0 })).toEqual([
      { path: "worker.jvm.initialRamPercentage", message: "worker.jvm.initialRamPercentage (0) must be above 0 and below 100" },
    ]);
  });

  it("rejects a heap that leaves less than 128 MiB for the rest of the JVM, naming worker.memoryMiB", () => {
    // 512 MiB × 90 % = 460 MiB heap, 52 MiB left; 75 % of 512 leaves exactly 128 (allowed);
    // 1271 − floor(1271 × 0.9) = 1271 − 1143 = 128 is the smallest container that fits
    // (1270 − 1143 = 127 does not).
    expect(jvmIssues({ ...g1, maxRamPercentage: 90, containerMemoryMiB: 512 })).toEqual([
      {
        path: "worker.jvm.maxRamPercentage",
        message:
          "worker.jvm.maxRamPercentage (90%) of worker.memoryMiB (512) leaves 52 MiB outside the heap; metaspace, code cache, thread stacks and GC structures need at least 128 MiB: lower worker.jvm.maxRamPercentage to 75 or raise worker.memoryMiB to 1271",
      },
    ]);
    expect(jvmIssues({ ...g1, maxRamPercentage: 75, containerMemoryMiB: 512 })).toEqual([]);
  });

  it("suggests only more memory when no percentage can fit", () => {
    expect(jvmIssues({ ...g1, maxRamPercentage: 50, containerMemoryMiB: 128 })[0]?.message).toMatch(/: raise worker\.memoryMiB to 255$/);
  });

  it("rejects invalid memory and thread counts", () => {
    expect(jvmIssues({ ...g1, containerMemoryMiB: 0, parallelGcThreads: 0 })).toEqual([
      { path: "worker.memoryMiB", message: "worker.memoryMiB (0) must be a positive number of MiB" },
      { path: "worker.jvm.parallelGcThreads", message: "worker.jvm.parallelGcThreads (0) must be a whole number, at least 1" },
    ]);
  });

  it("reports every problem at once", () => {
    const issues = jvmIssues({ gc: "ZGC", maxGcPauseMillis: 10, g1RegionSizeMiB: 3, maxRamPercentage: 100, containerMemoryMiB: 1024, containerCpus: 1 });
    expect(issues.map((i) => i.path)).toEqual(["worker.jvm.maxRamPercentage", "worker.jvm.maxGcPauseMillis", "worker.jvm.g1RegionSizeMiB"]);
  });
});

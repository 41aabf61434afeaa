/**
 * JVM flags for the worker's JVM variant, delivered as JAVA_TOOL_OPTIONS.
 *
 * Why the collector is always named explicitly: JDK ergonomics only treat a machine as "server
 * class" with at least 2 active processors and 1792 MiB of physical memory
 * (`os::is_server_class_machine()`, JDK 17 `runtime/os.cpp`); inside a container with less — the
 * common case for a worker pod — the JVM silently selects SerialGC, whatever the image or a
 * seed's advice says. So every preset selects exactly one of G1, Parallel or ZGC, and nothing
 * else in the flag list may select another (the cross-checks guard `extraFlags`).
 *
 * Why percentages and never -Xmx: since JDK 10 (JDK-8146115) the JVM reads the cgroup memory
 * limit, and `-XX:MaxRAMPercentage` sizes the heap from it, so the same flags stay right when an
 * environment override changes the container's memory. `-Xmx` would pin the heap and silently
 * override MaxRAMPercentage.
 *
 * `-XX:+ExitOnOutOfMemoryError`: a worker that hit an OOM is in an unknown state; exiting lets the
 * orchestrator restart it, and the job's lease expires and the reaper returns it to PENDING.
 */
import { fmtNumber, largestPercentFitting, smallestFitting, type TuningIssue } from "./issues.js";

/** The collectors a preset may name; the preset schema builds its enum from this list. */
export const GC_NAMES = ["G1", "Parallel", "ZGC"] as const;
export type GcName = (typeof GC_NAMES)[number];

export interface JvmInput {
  readonly gc: GcName;
  /** G1 only: -XX:MaxGCPauseMillis. @default the JVM's own (200 ms for G1) */
  readonly maxGcPauseMillis?: number | undefined;
  /** -XX:MaxRAMPercentage: heap limit as a share of the container's memory, in (0, 100). */
  readonly maxRamPercentage: number;
  /** -XX:InitialRAMPercentage, in (0, maxRamPercentage]. @default the JVM's own (1.5625) */
  readonly initialRamPercentage?: number | undefined;
  /** G1 only: -XX:G1HeapRegionSize in MiB, a power of two in 1..32 (JDK 17). @default ergonomic */
  readonly g1RegionSizeMiB?: number | undefined;
  /** -XX:ParallelGCThreads (used by G1, Parallel and ZGC alike). @default ergonomic from CPUs */
  readonly parallelGcThreads?: number | undefined;
  readonly containerMemoryMiB: number;
  readonly containerCpus: number;
}

export interface JvmTuning {
  /** In order: collector, collector options, heap sizing, OOM behaviour. */
  readonly flags: string[];
  /** `flags` joined with spaces, the value of JAVA_TOOL_OPTIONS. */
  readonly javaToolOptions: string;
  /**
   * floor(containerMemoryMiB × maxRamPercentage / 100). The JVM computes the same product in
   * bytes and aligns it *up* to its heap alignment (the G1 region size, or a 2 MiB page), so the
   * real MaxHeapSize is up to one alignment unit (≤ 32 MiB) larger: 512 MiB × 70 % gives
   * MaxHeapSize = 360 MiB, 8192 MiB × 80 % with 32 MiB regions 6560 MiB (checked against
   * `java -XX:+PrintFlagsFinal` in test/presets/tuning.realprograms.test.ts).
   */
  readonly maxHeapMiB: number;
}

/**
 * G1 region size bounds for JDK 17: `HeapRegionBounds::min_size()` = 1 MiB and
 * `max_size()` = 32 MiB (hotspot/share/gc/g1/heapRegionBounds.hpp; JDK 18 raised the maximum
 * to 512 MiB with JDK-8275056). Outside this range the JVM refuses to start ("G1HeapRegionSize=…
 * is outside the allowed range [ 0 ... 33554432 ]"); inside it, a non-power of two is silently
 * rounded up (3m becomes 4 MiB), so we reject both.
 */
export const G1_REGION_MIN_MIB = 1;
export const G1_REGION_MAX_MIB = 32;

/**
 * Memory the JVM needs outside the Java heap: metaspace (~40–80 MiB for a service with a few
 * libraries), the code cache (JIT-compiled code; 240 MiB reserved, tens of MiB used), thread
 * stacks (1 MiB reserved each), GC data structures (G1's remembered sets and card table, a few
 * percent of the heap) and direct buffers. 128 MiB is the smallest margin that keeps a small
 * worker clear of the container's OOM killer; the usual 75 % heap on a 512 MiB container leaves
 * exactly 128 MiB.
 */
export const JVM_MIN_NON_HEAP_MIB = 128;
// (The heap's alignment round-up, ≤ one region, comes out of this margin; with the default
// ergonomic region size for heaps under 4 GiB that is at most 2 MiB.)

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export function jvmIssues(i: JvmInput): TuningIssue[] {
  const issues: TuningIssue[] = [];
  const P = "worker.jvm";

  if (!(i.containerMemoryMiB > 0)) {
    issues.push({ path: "worker.memoryMiB", message: `worker.memoryMiB (${i.containerMemoryMiB}) must be a positive number of MiB` });
  }
  if (!(i.maxRamPercentage > 0 && i.maxRamPercentage < 100)) {
    issues.push({
      path: `${P}.maxRamPercentage`,
      message: `${P}.maxRamPercentage (${fmtNumber(i.maxRamPercentage)}) must be above 0 and below 100`,
    });
  }
  if (i.initialRamPercentage !== undefined) {
    if (!(i.initialRamPercentage > 0 && i.initialRamPercentage < 100)) {
      issues.push({
        path: `${P}.initialRamPercentage`,
        message: `${P}.initialRamPercentage (${fmtNumber(i.initialRamPercentage)}) must be above 0 and below 100`,
      });
    } else if (i.initialRamPercentage > i.maxRamPercentage) {
      issues.push({
        path: `${P}.initialRamPercentage`,
        message: `${P}.initialRamPercentage (${fmtNumber(i.initialRamPercentage)}) must not exceed ${P}.maxRamPercentage (${fmtNumber(i.maxRamPercentage)}): the initial heap cannot be larger than the maximum`,
      });
    }
  }

  if (i.maxGcPauseMillis !== undefined) {
    if (i.gc !== "G1") {
      issues.push({
        path: `${P}.maxGcPauseMillis`,
        related: [`${P}.gc`],
        message: `${P}.maxGcPauseMillis (${i.maxGcPauseMillis}) is a G1 pause goal, but ${P}.gc is ${i.gc}: remove the pause goal (in an environment's overrides: maxGcPauseMillis: null) or choose G1`,
      });
    } else if (!(Number.isInteger(i.maxGcPauseMillis) && i.maxGcPauseMillis >= 1)) {
      issues.push({
        path: `${P}.maxGcPauseMillis`,
        message: `${P}.maxGcPauseMillis (${i.maxGcPauseMillis}) must be a whole number of milliseconds, at least 1`,
      });
    }
  }

  if (i.g1RegionSizeMiB !== undefined) {
    if (i.gc !== "G1") {
      issues.push({
        path: `${P}.g1RegionSizeMiB`,
        related: [`${P}.gc`],
        message: `${P}.g1RegionSizeMiB (${i.g1RegionSizeMiB}) only applies to G1, but ${P}.gc is ${i.gc}: remove it (in an environment's overrides: g1RegionSizeMiB: null) or choose G1`,
      });
    } else if (!isPowerOfTwo(i.g1RegionSizeMiB) || i.g1RegionSizeMiB < G1_REGION_MIN_MIB || i.g1RegionSizeMiB > G1_REGION_MAX_MIB) {
      issues.push({
        path: `${P}.g1RegionSizeMiB`,
        message: `${P}.g1RegionSizeMiB (${i.g1RegionSizeMiB}) must be a power of two from ${G1_REGION_MIN_MIB} to ${G1_REGION_MAX_MIB} MiB (JDK 17's G1 limits): one of 1, 2, 4, 8, 16, 32`,
      });
    }
  }

  if (i.parallelGcThreads !== undefined && !(Number.isInteger(i.parallelGcThreads) && i.parallelGcThreads >= 1)) {
    issues.push({
      path: `${P}.parallelGcThreads`,
      message: `${P}.parallelGcThreads (${i.parallelGcThreads}) must be a whole number, at least 1`,
    });
  }

  if (i.containerMemoryMiB > 0 && i.maxRamPercentage > 0 && i.maxRamPercentage < 100) {
    const heap = maxHeapMiB(i);
    const left = i.containerMemoryMiB - heap;
    if (left < JVM_MIN_NON_HEAP_MIB) {
      const leavesEnough = (mem: number, pct: number): boolean => mem - maxHeapMiB({ containerMemoryMiB: mem, maxRamPercentage: pct }) >= JVM_MIN_NON_HEAP_MIB;
      const pctThatFits = largestPercentFitting((pct) => leavesEnough(i.containerMemoryMiB, pct));
      const memThatFits = smallestFitting(JVM_MIN_NON_HEAP_MIB / (1 - i.maxRamPercentage / 100), (mem) => leavesEnough(mem, i.maxRamPercentage));
      const fix =
        pctThatFits > 0
          ? `lower ${P}.maxRamPercentage to ${pctThatFits} or raise worker.memoryMiB to ${memThatFits}`
          : `raise worker.memoryMiB to ${memThatFits}`;
      issues.push({
        path: `${P}.maxRamPercentage`,
        message:
          `${P}.maxRamPercentage (${fmtNumber(i.maxRamPercentage)}%) of worker.memoryMiB (${i.containerMemoryMiB}) leaves ${left} MiB outside the heap; ` +
          `metaspace, code cache, thread stacks and GC structures need at least ${JVM_MIN_NON_HEAP_MIB} MiB: ${fix}`,
      });
    }
  }
  return issues;
}

function maxHeapMiB(i: Pick<JvmInput, "containerMemoryMiB" | "maxRamPercentage">): number {
  return Math.floor((i.containerMemoryMiB * i.maxRamPercentage) / 100);
}

/** Call only on an input with no `jvmIssues`. */
export function jvmTuning(i: JvmInput): JvmTuning {
  const flags: string[] = [];
  switch (i.gc) {
    case "G1":
      flags.push("-XX:+UseG1GC");
      if (i.maxGcPauseMillis !== undefined) flags.push(`-XX:MaxGCPauseMillis=${i.maxGcPauseMillis}`);
      if (i.g1RegionSizeMiB !== undefined) flags.push(`-XX:G1HeapRegionSize=${i.g1RegionSizeMiB}m`);
      break;
    case "Parallel":
      flags.push("-XX:+UseParallelGC");
      break;
    case "ZGC":
      // ZGC has no pause-time goal: its pauses do not grow with the heap (sub-millisecond in
      // JDK 17), so MaxGCPauseMillis would be ignored; jvmIssues rejects it rather than pass it.
      flags.push("-XX:+UseZGC");
      break;
  }
  if (i.parallelGcThreads !== undefined) flags.push(`-XX:ParallelGCThreads=${i.parallelGcThreads}`);
  flags.push(`-XX:MaxRAMPercentage=${fmtNumber(i.maxRamPercentage)}`);
  if (i.initialRamPercentage !== undefined) flags.push(`-XX:InitialRAMPercentage=${fmtNumber(i.initialRamPercentage)}`);
  flags.push("-XX:+ExitOnOutOfMemoryError");
  return { flags, javaToolOptions: flags.join(" "), maxHeapMiB: maxHeapMiB(i) };
}

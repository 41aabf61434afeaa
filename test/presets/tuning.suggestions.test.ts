/**
 * The "raise memoryMiB to N" in the heap errors must be the smallest container that fits. The
 * expectation here comes from the definition, by counting up from 1 MiB, never from the search
 * in presets/tuning/issues.ts.
 */
import { describe, expect, it } from "vitest";
import { JVM_MIN_NON_HEAP_MIB, jvmIssues } from "../../presets/tuning/jvm.js";
import { NODE_MIN_NON_HEAP_MIB, nodeIssues } from "../../presets/tuning/node.js";
import { smallestFitting } from "../../presets/tuning/issues.js";

/** Counts up from 1: the first memory size that passes `fits`. */
function firstFitting(fits: (mem: number) => boolean): number {
  for (let mem = 1; ; mem++) if (fits(mem)) return mem;
}

const suggested = (message: string | undefined): number => Number(/raise \S+\.memoryMiB to (\d+)$/.exec(message ?? "")?.[1]);
const PERCENTS = [51, 55, 60, 66.5, 70, 75, 80, 85, 88, 90, 93, 95, 97, 99];

describe("the smallest container suggested", () => {
  it.each(PERCENTS)("JVM at %s %% of a 192 MiB container", (pct) => {
    const expected = firstFitting((mem) => mem - Math.floor((mem * pct) / 100) >= JVM_MIN_NON_HEAP_MIB);
    const [issue] = jvmIssues({ gc: "Parallel", maxRamPercentage: pct, containerMemoryMiB: 192, containerCpus: 1 });
    expect(suggested(issue?.message)).toBe(expected);
  });

  it.each(PERCENTS)("Node at %s %% of a 96 MiB container", (pct) => {
    const expected = firstFitting((mem) => mem - Math.floor((mem * pct) / 100) >= NODE_MIN_NON_HEAP_MIB);
    const [issue] = nodeIssues({ containerMemoryMiB: 96, heapPercent: pct, uvThreadpoolSize: 4 }, "api");
    expect(suggested(issue?.message)).toBe(expected);
  });

  it("finds the answer far below or above the estimate it starts from", () => {
    const at = (n: number) => (m: number) => m >= n;
    expect(smallestFitting(1000, at(3))).toBe(3);
    expect(smallestFitting(10, at(5000))).toBe(5000);
    expect(smallestFitting(0, at(1))).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { Batcher } from "../../../services/core/batch.js";

const tick = () => new Promise<void>((r) => setTimeout(r, 5));
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A batcher over numbers that records every statement it sends. */
function recording(options: { concurrency?: number; key?: (n: number) => string; isolateFailures?: boolean; lingerMs?: number; limit?: number; failMany?: (items: readonly number[]) => boolean } = {}) {
  const sent: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const exec = async (items: readonly number[]) => {
    sent.push([...items]);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await tick();
    inFlight--;
    if (items.some((n) => n < 0)) throw new Error(`bad item in ${items.join(",")}`);
  };
  const batcher = new Batcher<number, number>({
    one: async (n) => {
      await exec([n]);
      return n * 10;
    },
    many: async (items) => {
      await exec(items);
      if (options.failMany?.(items)) throw new Error("batch failed");
      return items.map((n) => n * 10);
    },
    ...options,
  });
  return { batcher, sent, maxInFlight: () => maxInFlight };
}

describe("Batcher", () => {
  it("sends the items of one event-loop turn together, batches what arrives while it is in flight, and answers each in order", async () => {
    const { batcher, sent } = recording({ concurrency: 1 });
    const first = [1, 2].map((n) => batcher.run(n));
    await nextTurn();
    expect(sent).toEqual([[1, 2]]);
    const later = [3, 4, 5].map((n) => batcher.run(n));
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(sent).toEqual([[1, 2], [3, 4, 5]]);
  });

  it("keeps at most `concurrency` statements in flight", async () => {
    const { batcher, sent, maxInFlight } = recording({ concurrency: 2 });
    const runs: Promise<number>[] = [];
    for (let i = 0; i < 20; i++) {
      runs.push(batcher.run(i));
      await nextTurn();
    }
    await Promise.all(runs);
    expect(maxInFlight()).toBe(2);
    expect(sent.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sent.length).toBeLessThan(20);
  });

  it("never puts two items with the same key in one statement", async () => {
    const { batcher, sent } = recording({ concurrency: 1, key: (n) => String(n % 3) });
    await Promise.all([0, 1, 2, 3, 4, 5, 6].map((n) => batcher.run(n)));
    for (const statement of sent) expect(new Set(statement.map((n) => n % 3)).size).toBe(statement.length);
    expect(sent.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("retries a failed batch item by item when isolating failures, so only the bad item fails", async () => {
    const { batcher } = recording({ concurrency: 1, isolateFailures: true });
    const settled = await Promise.allSettled([1, 2, -3, 4].map((n) => batcher.run(n)));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
  });

  it("fails the whole batch when not isolating", async () => {
    const { batcher, sent } = recording({ concurrency: 1, failMany: () => true });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.run(n)));
    expect(sent).toEqual([[1, 2, 3]]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"]);
  });
});

describe("Batcher with lingerMs", () => {
  it("holds a batch until its oldest item is lingerMs old, so later items join it", async () => {
    const { batcher, sent } = recording({ lingerMs: 60 });
    const first = batcher.run(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    const rest = [2, 3].map((n) => batcher.run(n));
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30]);
    expect(sent).toEqual([[1, 2, 3]]);
  });

  it("flush() sends what lingers at once and resolves when every item has settled", async () => {
    const { batcher, sent } = recording({ lingerMs: 60_000 });
    const results = [1, 2].map((n) => batcher.run(n));
    await batcher.flush();
    expect(sent).toEqual([[1, 2]]);
    expect(await Promise.all(results)).toEqual([10, 20]);
  });

  it("sends a full batch without lingering", async () => {
    const { batcher, sent } = recording({ lingerMs: 60_000, limit: 2 });
    const results = [1, 2].map((n) => batcher.run(n));
    expect(await Promise.all(results)).toEqual([10, 20]);
    expect(sent).toEqual([[1, 2]]);
  });
});

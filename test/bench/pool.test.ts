import { describe, expect, it } from "vitest";
import { pooled } from "../../bench/lib/pool.js";

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("pooled", () => {
  it("calls fn once per index and never has more than inFlight calls outstanding", async () => {
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await pooled(20, 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
  });

  it("starts nothing after the first failure and rejects with it once the running calls settle", async () => {
    const started: number[] = [];
    let settled = 0;
    const run = pooled(100, 4, async (i) => {
      started.push(i);
      await tick();
      settled++;
      if (i === 5) throw new Error("boom");
    });
    await expect(run).rejects.toThrow("boom");
    expect(settled).toBe(started.length);
    expect(started.length).toBeLessThan(12);
  });

  it("does nothing for a count of zero and refuses a non-positive inFlight", async () => {
    await pooled(0, 4, async () => {
      throw new Error("not called");
    });
    await expect(pooled(1, 0, async () => undefined)).rejects.toThrow(/positive integer/);
  });
});

/** SnapshotCache: one snapshot in flight at a time, reused while young enough. */
import { describe, expect, it } from "vitest";
import { SnapshotCache, type SystemSnapshot } from "../../../services/api/system-snapshot.js";

function counting() {
  let taken = 0;
  let release: () => void = () => undefined;
  const cache = new SnapshotCache(async () => {
    taken++;
    await new Promise<void>((r) => (release = r));
    return { at: String(taken) } as unknown as SystemSnapshot;
  });
  return { cache, taken: () => taken, release: () => release() };
}

describe("SnapshotCache", () => {
  it("shares the snapshot in flight between concurrent callers", async () => {
    const c = counting();
    const all = Promise.all([c.cache.get(5000), c.cache.get(5000), c.cache.get(0)]);
    await Promise.resolve();
    c.release();
    const [a, b, d] = await all;
    expect(c.taken()).toBe(1);
    expect(a).toBe(b);
    expect(a).toBe(d);
  });

  it("reuses a snapshot within maxAgeMs, and takes a new one for maxAgeMs 0", async () => {
    const c = counting();
    const first = c.cache.get(5000);
    await Promise.resolve();
    c.release();
    await first;
    expect(await c.cache.get(60_000)).toBe(await first);
    expect(c.taken()).toBe(1);
    const fresh = c.cache.get(0);
    await Promise.resolve();
    c.release();
    expect((await fresh).at).toBe("2");
  });

  it("a failed snapshot is not kept: the next call tries again", async () => {
    let calls = 0;
    const cache = new SnapshotCache(async () => {
      calls++;
      if (calls === 1) throw new Error("down");
      return { at: "ok" } as unknown as SystemSnapshot;
    });
    await expect(cache.get(5000)).rejects.toThrow("down");
    expect((await cache.get(5000)).at).toBe("ok");
  });
});

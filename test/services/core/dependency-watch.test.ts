import { describe, expect, it } from "vitest";
import { DependencyWatch } from "../../../services/core/dependency-watch.js";
import { createMetrics } from "../../../services/core/metrics.js";

/** A watch on two fake dependencies with a clock the test moves. */
function setup(limitMs = 120_000) {
  let now = 1_000_000;
  const up = { postgres: true, redis: true };
  const metrics = createMetrics({ defaultMetrics: false });
  const check = (name: keyof typeof up) => async () => {
    if (!up[name]) throw new Error(`${name} refused`);
  };
  const watch = new DependencyWatch({
    checks: { postgres: check("postgres"), redis: check("redis") },
    livenessRequired: ["postgres"],
    limitMs,
    gauge: metrics.dependencyUp,
    now: () => now,
  });
  return { watch, up, metrics, advance: (ms: number) => (now += ms) };
}

describe("DependencyWatch", () => {
  it("stays live through an outage shorter than the limit, fails after it, recovers at once", async () => {
    const { watch, up, advance } = setup();
    await watch.checkOnce();
    expect(watch.liveness().live).toBe(true);

    up.postgres = false;
    await watch.checkOnce();
    advance(119_000);
    await watch.checkOnce();
    expect(watch.liveness()).toEqual({ live: true, limitMs: 120_000, failing: {} });

    advance(2_000);
    await watch.checkOnce();
    expect(watch.liveness()).toEqual({ live: false, limitMs: 120_000, failing: { postgres: { downForMs: 121_000, error: "postgres refused" } } });

    up.postgres = true;
    await watch.checkOnce();
    expect(watch.liveness().live).toBe(true);
  });

  it("ignores dependencies liveness does not require (a Redis outage never restarts the process)", async () => {
    const { watch, up, advance } = setup();
    up.redis = false;
    await watch.checkOnce();
    advance(10 * 60_000);
    await watch.checkOnce();
    expect(watch.liveness().live).toBe(true);
    expect(watch.state("redis")).toMatchObject({ up: false, error: "redis refused" });
  });

  it("counts a dependency never reached as down since start", async () => {
    const { watch, up, advance } = setup(5_000);
    up.postgres = false;
    advance(6_000);
    await watch.checkOnce(); // first observation, long after start
    expect(watch.liveness().failing.postgres?.downForMs).toBe(6_000);
  });

  it("keeps jobstack_dependency_up current", async () => {
    const { watch, up, metrics } = setup();
    up.redis = false;
    await watch.checkOnce();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^jobstack_dependency_up\{dependency="postgres"\} 1$/m);
    expect(text).toMatch(/^jobstack_dependency_up\{dependency="redis"\} 0$/m);
  });

  it("remembers since when a dependency is up or down, and moves the time only on a change", async () => {
    const { watch, up, advance } = setup();
    advance(1_000);
    await watch.checkOnce();
    expect(watch.state("postgres")).toEqual({ up: true, since: 1_001_000 });
    advance(1_000);
    await watch.checkOnce();
    expect(watch.state("postgres")).toEqual({ up: true, since: 1_001_000 });
    up.postgres = false;
    advance(1_000);
    await watch.checkOnce();
    expect(watch.state("postgres")).toEqual({ up: false, since: 1_003_000, error: "postgres refused" });
    advance(1_000);
    watch.observe({ postgres: { ok: false, error: "timeout" } });
    expect(watch.state("postgres")).toEqual({ up: false, since: 1_003_000, error: "timeout" });
    watch.observe({ postgres: { ok: true } });
    expect(watch.state("postgres")).toEqual({ up: true, since: 1_004_000 });
  });

  it("stays live when down exactly the limit, and fails before the first pass once the limit has passed since start", () => {
    const { watch, advance } = setup(5_000);
    advance(5_000);
    expect(watch.liveness()).toEqual({ live: true, limitMs: 5_000, failing: {} });
    advance(1);
    expect(watch.liveness()).toEqual({ live: false, limitMs: 5_000, failing: { postgres: { downForMs: 5_001 } } });
  });

  it("works on the wall clock and without a gauge", async () => {
    let calls = 0;
    const watch = new DependencyWatch({ checks: { postgres: async () => void calls++ }, livenessRequired: ["postgres"], limitMs: 60_000 });
    const before = Date.now();
    await watch.checkOnce();
    expect(calls).toBe(1);
    expect(watch.state("postgres")?.since).toBeGreaterThanOrEqual(before);
    expect(watch.state("postgres")?.since).toBeLessThanOrEqual(Date.now());
    expect(watch.liveness().live).toBe(true);
  });

  it("start() runs a pass at once and then every intervalMs until stop(); start() after stop() does nothing", async () => {
    let passes = 0;
    const watch = new DependencyWatch({ checks: { postgres: async () => void passes++ }, livenessRequired: [], limitMs: 60_000, intervalMs: 100 });
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(passes).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await watch.stop();
    // One at once, then one per 100 ms: at most four in 370 ms, fewer on a slow machine, never none.
    expect(passes).toBeGreaterThanOrEqual(2);
    expect(passes).toBeLessThanOrEqual(4);
    const stoppedAt = passes;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(passes).toBe(stoppedAt);
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(passes).toBe(stoppedAt);
    await watch.stop();
  });

  it("waits in stop() for the pass in progress", async () => {
    let finished = false;
    const watch = new DependencyWatch({
      checks: { postgres: () => new Promise<void>((resolve) => setTimeout(() => ((finished = true), resolve()), 100)) },
      livenessRequired: [],
      limitMs: 60_000,
    });
    watch.start();
    await watch.stop();
    expect(finished).toBe(true);
    expect(watch.state("postgres")).toMatchObject({ up: true });
  });

  it("uses a 5 s interval by default: no second pass soon after the first", async () => {
    let passes = 0;
    const watch = new DependencyWatch({ checks: { postgres: async () => void passes++ }, livenessRequired: [], limitMs: 60_000 });
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await watch.stop();
    expect(passes).toBe(1);
  });
});

describe("DependencyWatch.start", () => {
  it("runs one loop however often it is called, even before the first pass finished", async () => {
    let calls = 0;
    const watch = new DependencyWatch({
      checks: {
        postgres: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 30)); // the first pass is still running at the second start()
        },
      },
      livenessRequired: ["postgres"],
      limitMs: 60_000,
      intervalMs: 20,
    });
    watch.start();
    watch.start();
    watch.start();
    await new Promise((r) => setTimeout(r, 230));
    await watch.stop();
    // One loop: a pass every 30 ms + 20 ms, at most 5 in 230 ms (timers never fire early); three
    // loops made 15 here.
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(6);
  });
});

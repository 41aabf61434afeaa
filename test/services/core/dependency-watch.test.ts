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
});

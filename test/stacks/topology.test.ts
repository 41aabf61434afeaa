/**
 * Dependency order is decided once, in stacks/topology.ts: `buildTopology` lists services so
 * each follows everything it depends on, and both renderers create resources in that order.
 */
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../stacks/config/index.js";
import { dependenciesOf } from "../../stacks/render-helpers.js";
import { buildTopology, dependencyOrder } from "../../stacks/topology.js";

describe("buildTopology", () => {
  it("lists every environment's services in dependency order", () => {
    for (const name of ["dev", "staging", "prod"]) {
      const topology = buildTopology(loadEnvironment(name));
      const seen = new Set<string>();
      for (const s of topology.services) {
        for (const d of s.dependsOn) expect(seen.has(d), `${name}: ${s.name} after ${d}`).toBe(true);
        seen.add(s.name);
      }
      expect(dependencyOrder(topology)).toEqual(topology.services);
    }
  });

  it("marks what differs per service as data: the shared image and the probe runtime", () => {
    const topology = buildTopology(loadEnvironment("dev"));
    const byName = new Map(topology.services.map((s) => [s.name, s]));
    expect(byName.get("migrate")!.sharesImageWith).toBe("api");
    expect(byName.get("migrate")!.image).toEqual(byName.get("api")!.image);
    expect(byName.get("worker")!.probeRuntime).toBe("node");
    expect(byName.get("rabbitmq")!.hostname).toBe("rabbitmq");
  });
});

describe("dependencyOrder", () => {
  it("refuses a dependency on a service the topology does not have", () => {
    const topology = buildTopology(loadEnvironment("dev"));
    const services = topology.services.filter((s) => s.name !== "migrate");
    expect(() => dependencyOrder({ ...topology, services })).toThrow(/topology dev: api depends on migrate, which is not a service of it/);
  });
});

describe("dependenciesOf", () => {
  it("refuses a service whose dependency was not rendered before it", () => {
    const topology = buildTopology(loadEnvironment("dev"));
    const api = topology.services.find((s) => s.name === "api")!;
    expect(() => dependenciesOf(api, new Map([["postgres", 1]]))).toThrow(/api depends on migrate, which is not rendered before it/);
    const created = new Map(api.dependsOn.map((d, i) => [d, i]));
    expect(dependenciesOf(api, created)).toEqual(api.dependsOn.map((_, i) => i));
  });
});

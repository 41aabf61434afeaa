/**
 * A feature (stacks/docker/features.ts) may add settings to the shared workload but never
 * override one, and two features may not set the same one: both clashes fail the synth instead
 * of letting one side silently win.
 */
import { Testing } from "cdktf";
import type { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../../stacks/config/index.js";
import { combineAdditions, withAdditions } from "../../../stacks/docker/additions.js";
import { FEATURES } from "../../../stacks/docker/features.js";
import { Images } from "../../../stacks/docker/images.js";
import { JobNetwork } from "../../../stacks/docker/network.js";
import { containerConfig, swarmServiceConfig, type DockerContext, type WorkloadProps } from "../../../stacks/docker/workload.js";
import { buildTopology, service, type ServiceName } from "../../../stacks/topology.js";

const topology = buildTopology(loadEnvironment("dev"));
const SECRETS = { "postgres-password": "p", "redis-password": "r", "rabbitmq-password": "q", "api-token": "t", "operator-token": "o" };

/** Runs `check` with the props of one dev service, inside a scope that can hold its constructs. */
function withProps(name: ServiceName, mode: DockerContext["mode"], check: (props: WorkloadProps, scope: Construct) => void): void {
  Testing.synthScope((scope) => {
    const network = new JobNetwork(scope, "network", { name: "jobstack-t", driver: mode === "swarm" ? "overlay" : "bridge", labels: {} });
    const spec = service(topology, name);
    const context: DockerContext = { mode, prefix: "jobstack-t", network, secrets: SECRETS, rollout: topology.rollout, labels: {} };
    const volumes = new Map(spec.volumes.map((v) => [v.name, { name: `jobstack-t-${v.name}` } as never]));
    check({ spec, context, image: new Images(scope, "images", { labels: {} }).forService(spec), volumes }, scope);
  });
}

describe("withAdditions", () => {
  it("adds a setting the shared container leaves unset", () => {
    withProps("migrate", "containers", (props) => {
      const config = withAdditions(containerConfig(props, 0), { attach: true }, "migrate container");
      expect(config.attach).toBe(true);
      expect(config.restart).toBe("no");
    });
  });

  it("refuses an addition that would override a shared container setting, even with the same value", () => {
    withProps("migrate", "containers", (props) => {
      const base = containerConfig(props, 0);
      expect(() => withAdditions(base, { restart: "always" }, "migrate container")).toThrow(
        /migrate container: restart is set by the shared workload; a feature may add settings, not override them/,
      );
      expect(() => withAdditions(base, { mustRun: false }, "migrate container")).toThrow(/mustRun is set by the shared workload/);
    });
  });

  it("refuses a Swarm container addition that would override a shared one", () => {
    withProps("api", "swarm", (props) => {
      expect(() => swarmServiceConfig(props, { swarmContainer: { user: "0:0" } })).toThrow(/api Swarm container: user is set by the shared workload/);
      expect(swarmServiceConfig(props, { swarmContainer: { hostname: "api" } }).taskSpec.containerSpec.hostname).toBe("api");
    });
  });
});

describe("combineAdditions", () => {
  it("refuses two features that set the same setting, and appends their Swarm mounts", () => {
    expect(() => combineAdditions([{ container: { hostname: "a" } }, { container: { hostname: "b" } }], "rabbitmq")).toThrow(
      /rabbitmq \(container\): hostname is set by two features/,
    );
    const mount = (target: string) => ({ type: "tmpfs", target });
    expect(combineAdditions([{ swarmMounts: [mount("/a")] }, { swarmMounts: [mount("/b")] }], "x").swarmMounts).toEqual([mount("/a"), mount("/b")]);
  });

  it("finds no clash among the shipped features for any dev service, on either mode", () => {
    for (const mode of ["containers", "swarm"] as const) {
      for (const spec of topology.services) {
        withProps(spec.name, mode, (props, scope) => {
          const additions = combineAdditions(FEATURES.map((f) => f(scope, props)), spec.name);
          expect(() => withAdditions(containerConfig(props, 0), additions.container, spec.name)).not.toThrow();
          expect(() => swarmServiceConfig(props, additions)).not.toThrow();
        });
      }
    }
  });
});

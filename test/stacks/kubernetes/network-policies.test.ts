import { describe, expect, it } from "vitest";
import { NetworkPolicies } from "../../../stacks/kubernetes/network-policies.js";
import type { Topology } from "../../../stacks/topology.js";
import { policyEdges, prod, resourceNamed, synthConstructs } from "./support.js";

const { topology } = prod();
const render = (t: Topology) => synthConstructs((s) => new NetworkPolicies(s, "network-policies", { namespace: "ns", topology: t }));

describe("NetworkPolicies", () => {
  it("denies all ingress and egress in the namespace by default", () => {
    const deny = resourceNamed(render(topology), "kubernetes_network_policy_v1", "default-deny");
    expect(deny.body.spec).toEqual({ pod_selector: {}, policy_types: ["Ingress", "Egress"] });
  });

  it("opens each edge on both ends, and DNS only for pods that dial out", () => {
    const edges = policyEdges(render(topology));
    expect(edges.ingress.has("worker->postgres:5432/TCP")).toBe(true);
    expect(edges.egress.has("worker->postgres:5432/TCP")).toBe(true);
    expect(edges.ingress.has("ingress->api:8080/TCP")).toBe(true);
    // RabbitMQ's management API: the api reads unacked counts there; the worker has no business on it.
    for (const side of [edges.ingress, edges.egress]) {
      expect([...side].filter((e) => e.includes(":15672/"))).toEqual(["api->rabbitmq:15672/TCP"]);
    }
    // prod's RabbitMQ is a cluster: its nodes resolve each other by name.
    expect([...edges.dns].sort()).toEqual(["api", "migrate", "rabbitmq", "worker"]);
  });

  it("follows the topology: a removed edge is closed on both ends", () => {
    const fewer = { ...topology, edges: topology.edges.filter((e) => !(e.from === "worker" && e.to === "redis")) };
    const edges = policyEdges(render(fewer));
    expect(edges.ingress.has("worker->redis:6379/TCP")).toBe(false);
    expect(edges.egress.has("worker->redis:6379/TCP")).toBe(false);
    expect(edges.ingress.has("api->redis:6379/TCP")).toBe(true);
  });

  it("refuses an edge to a service the topology does not have", () => {
    const services = topology.services.filter((s) => s.name !== "redis");
    expect(() => render({ ...topology, services })).toThrow(/edge api → redis names a service the topology does not have/);
  });

  it("admits only the ingress controller's namespace to the api when the environment names it", () => {
    const json = synthConstructs((s) => new NetworkPolicies(s, "network-policies", { namespace: "ns", topology, ingressControllerNamespace: "ingress-nginx" }));
    const rules = (resourceNamed(json, "kubernetes_network_policy_v1", "api-ingress").body.spec as { ingress: { from?: unknown[] }[] }).ingress;
    const fromController = rules.filter((r) => JSON.stringify(r.from ?? []).includes("ingress-nginx"));
    expect(fromController).toEqual([
      { from: [{ namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ port: "8080", protocol: "TCP" }] },
    ]);
    expect(rules.every((r) => (r.from ?? []).length > 0)).toBe(true); // no rule left open to any source
  });
});

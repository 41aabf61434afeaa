/** The topology graph follows the synthesized NetworkPolicies, not the intended topology. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topologyGraph } from "../../../stacks/graph/index.js";
import { k8s, resources, type Json } from "../../../stacks/policy/model.js";
import { one, synthesizeShipped, type Synthesized } from "./fixtures.js";

let synth: Synthesized;
beforeAll(() => {
  synth = synthesizeShipped({ envs: ["prod"] });
});
afterAll(() => synth?.cleanup());

const edges = (g: ReturnType<typeof topologyGraph>) => g.edges.map((e) => `${e.from}->${e.to}:${e.label}`).sort();

describe("topologyGraph (Kubernetes)", () => {
  it("draws exactly the connections both sides' policies allow", () => {
    expect(edges(topologyGraph(synth.copy("prod")))).toEqual(
      [
        "api->postgres:5432", "api->rabbitmq:5672,15672", "api->redis:6379", "migrate->postgres:5432", "worker->postgres:5432", "worker->rabbitmq:5672", "worker->redis:6379",
        // prod's RabbitMQ cluster: its nodes reach each other on epmd and distribution.
        "rabbitmq->rabbitmq:4369,25672",
      ].sort(),
    );
  });

  it("drops an edge when the destination's ingress no longer admits it", () => {
    const s = synth.copy("prod");
    const redisIngress = resources(s, ...k8s("network_policy")).find((r) => one(r.body.metadata).name === "redis-ingress")!;
    const spec = one(redisIngress.body.spec);
    spec.ingress = (spec.ingress as Json[]).filter((rule) => !JSON.stringify(rule.from).includes('"worker"'));
    expect(edges(topologyGraph(s))).not.toContain("worker->redis:6379");
    expect(edges(topologyGraph(s))).toContain("api->redis:6379");
  });

  it("without any NetworkPolicy everything can reach everything, and the boundary says so", () => {
    const s = synth.copy("prod");
    delete s.json.resource!.kubernetes_network_policy_v1;
    const g = topologyGraph(s);
    expect(g.boundary).toBe("namespace jobstack-prod: no default-deny NetworkPolicy");
    expect(edges(g)).toContain("redis->postgres:5432");
    expect(edges(g)).toContain("postgres->api:8080");
  });

  it("a policy selecting pods by match_expressions restricts them, and is no default-deny", () => {
    const s = synth.copy("prod");
    const policies = s.json.resource!.kubernetes_network_policy_v1 as Record<string, Json>;
    const deny = Object.keys(policies).find((k) => one(policies[k]!.metadata).name === "default-deny")!;
    delete policies[deny];
    expect(edges(topologyGraph(s))).toContain("postgres->worker:8081");
    policies.postgres_no_egress = {
      metadata: { name: "postgres-no-egress" },
      spec: { pod_selector: { match_expressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["postgres"] }] }, policy_types: ["Egress"] },
    };
    const g = topologyGraph(s);
    expect(g.boundary).toBe("namespace jobstack-prod: no default-deny NetworkPolicy");
    expect(edges(g).filter((e) => e.startsWith("postgres->"))).toEqual([]);
    expect(edges(g)).toContain("api->postgres:5432");
  });
});

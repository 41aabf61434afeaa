import { describe, expect, it } from "vitest";
import { clusterConf, majority, RabbitmqCluster } from "../../../stacks/kubernetes/rabbitmq-cluster.js";
import { service } from "../../../stacks/topology.js";
import { prod, resourceNamed, synthConstructs } from "./support.js";

const { topology } = prod();
const render = (replicas: number) =>
  synthConstructs((scope) => {
    new RabbitmqCluster(scope, "rabbitmq-cluster", {
      namespace: "ns",
      namespaceName: "ns",
      environment: "prod",
      spec: { ...service(topology, "rabbitmq"), replicas },
      storageClass: "fast",
      secretName: "jobstack-secrets",
    });
  });

describe("RabbitmqCluster", () => {
  it("sizes the PDB, the quorum group and the formation hint from the replica count", () => {
    const json = render(5);
    expect(resourceNamed(json, "kubernetes_stateful_set_v1", "rabbitmq").body.spec.replicas).toBe("5");
    expect(resourceNamed(json, "kubernetes_pod_disruption_budget_v1", "rabbitmq").body.spec.min_available).toBe("3");
    expect(resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-advanced").body.data["advanced.config"]).toContain("{quorum_cluster_size, 5}");
    expect(resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-cluster-conf").body.data["30-cluster.conf"]).toContain("cluster_formation.target_cluster_size_hint = 5");
    // One provider block for random, however many constructs need it.
    expect(Object.keys(json.provider.random ?? {})).toHaveLength(1);
  });

  it("keeps the preset's tuned rabbitmq.conf next to the cluster's own file", () => {
    const json = render(3);
    expect(resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-conf").body.data["20-jobstack.conf"]).toBe(service(topology, "rabbitmq").configFiles[0]!.content);
    expect(clusterConf("jobstack-prod", 3)).toMatch(/^cluster_formation\.k8s\.hostname_suffix = \.rabbitmq-nodes\.jobstack-prod\.svc\.cluster\.local$/m);
  });

  it("refuses sizes that are not a cluster with a majority after a loss", () => {
    for (const n of [1, 2, 4]) expect(() => render(n)).toThrow(`rabbitmq: 'replicas' (${n}) must be an odd number of at least 3 for a cluster`);
    expect([1, 3, 5, 7].map(majority)).toEqual([1, 2, 3, 4]);
  });
});

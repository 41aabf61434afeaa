import { describe, expect, it } from "vitest";
import { AppWorkload } from "../../../stacks/kubernetes/app-workload.js";
import { service, type ServiceSpec, type Topology } from "../../../stacks/topology.js";
import { prod, resources, synthConstructs } from "./support.js";

const { topology } = prod("high-throughput");
const render = (spec: ServiceSpec, rollout: Topology["rollout"] = { maxSurge: 2, maxUnavailable: 1 }) =>
  synthConstructs((scope) => {
    new AppWorkload(scope, spec.name, { namespace: "ns", environment: "prod", spec, rollout, secretName: "jobstack-secrets" });
  });

describe("AppWorkload", () => {
  it("renders a Deployment with the preset's replicas and rolling-update settings", () => {
    const api = service(topology, "api");
    const [d] = resources(render(api, { maxSurge: 3, maxUnavailable: 0 }), "kubernetes_deployment_v1");
    expect(d!.body.spec.replicas).toBe(String(api.replicas));
    expect(d!.body.spec.strategy).toEqual({ type: "RollingUpdate", rolling_update: { max_surge: "3", max_unavailable: "0" } });
    expect(d!.body.lifecycle).toBeUndefined();
    const pod = d!.body.spec.template.spec;
    expect(pod.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution[0].weight).toBe(100);
    expect(pod.container[0].args).toEqual(["api"]);
  });

  it("adds a PodDisruptionBudget that never blocks a node drain", () => {
    const json = render(service(topology, "api"), { maxSurge: 1, maxUnavailable: 0 });
    const [pdb] = resources(json, "kubernetes_pod_disruption_budget_v1");
    expect(pdb!.body.spec.max_unavailable).toBe("1");
    expect(pdb!.body.spec.selector.match_labels["app.kubernetes.io/name"]).toBe("api");
  });

  it("adds an autoscaling/v2 HPA on CPU and lets it own the replica count", () => {
    const worker = service(topology, "worker");
    const a = worker.autoscaling!;
    const json = render(worker);
    const [hpa] = resources(json, "kubernetes_horizontal_pod_autoscaler_v2");
    expect(hpa!.body.spec).toMatchObject({
      min_replicas: a.minReplicas,
      max_replicas: a.maxReplicas,
      scale_target_ref: { api_version: "apps/v1", kind: "Deployment" },
      metric: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", average_utilization: a.targetCpuPercent } } }],
    });
    const [d] = resources(json, "kubernetes_deployment_v1");
    expect(d!.body.spec.replicas).toBe(String(a.minReplicas));
    expect(d!.body.lifecycle).toEqual({ ignore_changes: ["spec[0].replicas"] });
  });

  it("renders no HPA without autoscaling", () => {
    const { autoscaling: _a, ...worker } = service(topology, "worker");
    expect(resources(render(worker), "kubernetes_horizontal_pod_autoscaler_v2")).toHaveLength(0);
  });

  it("names both fields when a rollout could never progress", () => {
    expect(() => render(service(topology, "api"), { maxSurge: 0, maxUnavailable: 0 })).toThrow(/'rollout.maxSurge' \(0\) and 'rollout.maxUnavailable' \(0\)/);
  });

  it("names both fields when minReplicas exceeds maxReplicas", () => {
    const worker = service(topology, "worker");
    expect(() => render({ ...worker, autoscaling: { minReplicas: 5, maxReplicas: 2, targetCpuPercent: 70 } })).toThrow(
      /'autoscaling.minReplicas' \(5\) must not exceed 'autoscaling.maxReplicas' \(2\)/,
    );
  });
});

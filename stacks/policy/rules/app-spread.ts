/**
 * In a prod-like Kubernetes stack, the api and worker Deployments spread their pods over zones
 * and nodes (topology_spread_constraint on `topology.kubernetes.io/zone` and
 * `kubernetes.io/hostname`) and have a PodDisruptionBudget, so losing a node or a zone, or
 * draining one, takes only a share of each (docs/high-availability.md).
 */
import { dig, k8s, labelSelectorMatches, resources, selectsEveryPod, str, workloads } from "../model.js";
import { isProdLikeTier, stackTier } from "../tier.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

const KEYS = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"] as const;

export const appSpread: Rule = {
  id: "app-spread",
  rationale: "Replicas scheduled onto one node or one zone all go down with it; a drain without a PDB may evict them all at once.",
  fix: "give the Deployment topology_spread_constraint blocks on topology.kubernetes.io/zone and kubernetes.io/hostname (stacks/kubernetes/pod.ts spreadConstraints) and a PodDisruptionBudget",
  check(stack) {
    if (!isProdLikeTier(stackTier(stack))) return [];
    const out: Violation[] = [];
    const pdbs = resources(stack, ...k8s("pod_disruption_budget"));
    for (const w of workloads(stack).filter((x) => (x.role === "api" || x.role === "worker") && x.kind === "deployment" && !x.init)) {
      const pod = dig(w.resource.body, "spec", "template", "spec")[0] ?? {};
      const constraints = dig(pod, "topology_spread_constraint");
      for (const key of KEYS) {
        const spread = constraints.some(
          (c) => str(c.topology_key) === key && dig(c, "label_selector").some((s) => labelSelectorMatches(s, w.podLabels, "none")),
        );
        if (!spread) out.push(violation(this, stack.name, w.resource.address, `${w.role} pods are not spread over ${key}`));
      }
      const covered = pdbs.some((p) => {
        // A budget over every pod of the namespace (empty or absent selector) is no budget for this workload.
        const selector = dig(p.body, "spec", "selector")[0];
        return !selectsEveryPod(selector) && labelSelectorMatches(selector, w.podLabels, "none");
      });
      if (!covered) out.push(violation(this, stack.name, w.resource.address, `${w.role} has no PodDisruptionBudget`));
    }
    return out;
  },
};

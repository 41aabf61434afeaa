/**
 * In a prod-like Kubernetes stack, the api and worker Deployments spread their pods over zones
 * and nodes (topology_spread_constraint on `topology.kubernetes.io/zone` and
 * `kubernetes.io/hostname`) and have a PodDisruptionBudget, so losing a node or a zone, or
 * draining one, takes only a share of each (docs/high-availability.md).
 */
import { dig, k8s, labelMap, resources, str, workloads } from "../model.js";
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
          (c) => str(c.topology_key) === key && dig(c, "label_selector").some((s) => Object.entries(labelMap(s.match_labels)).every(([k, v]) => w.podLabels[k] === v)),
        );
        if (!spread) out.push(violation(this, stack.name, w.resource.address, `${w.role} pods are not spread over ${key}`));
      }
      const covered = pdbs.some((p) => {
        const selector = labelMap(dig(p.body, "spec", "selector")[0]?.match_labels);
        return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => w.podLabels[k] === v);
      });
      if (!covered) out.push(violation(this, stack.name, w.resource.address, `${w.role} has no PodDisruptionBudget`));
    }
    return out;
  },
};

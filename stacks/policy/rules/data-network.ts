/**
 * Postgres, Redis and RabbitMQ are reachable only on the environment's dedicated network.
 *
 * Docker: every data container or service is attached to networks declared in this stack
 * (`docker_network`) and to nothing else — not the default bridge, not the host network.
 * Kubernetes: the namespace has a default-deny NetworkPolicy (all pods, Ingress, no rules), and
 * no NetworkPolicy opens a data service to everyone (an ingress rule without `from`) or to
 * anything outside the namespace (`ip_block`, `namespace_selector`).
 */
import {
  block, blocks, DATA_ROLES, k8s, labelSelectorMatches, namespaceName, referencedResource, resources, selectsEveryPod, str, strings, workloads, type Workload,
} from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

const isData = (w: Workload): boolean => w.role !== undefined && DATA_ROLES.includes(w.role);

export const dataNetwork: Rule = {
  id: "data-network",
  rationale: "Data services must be reachable only by the system's own processes, on a network (or behind NetworkPolicies) of their own.",
  fix: "attach the data services only to the environment's docker_network (Docker), or add a default-deny NetworkPolicy and allow only the app pods (Kubernetes)",
  check(stack) {
    const out: Violation[] = [];
    const data = workloads(stack).filter(isData);
    for (const w of data.filter((d) => d.target === "docker")) {
      if (w.networkMode && w.networkMode !== "bridge" && w.networkMode !== "default") {
        out.push(violation(this, stack.name, w.where, `${w.role} uses network_mode "${w.networkMode}"`));
        continue;
      }
      if (w.networks.length === 0) {
        out.push(violation(this, stack.name, w.where, `${w.role} is attached to no dedicated network (it lands on Docker's default bridge)`));
        continue;
      }
      for (const n of w.networks) {
        if (!referencedResource(stack, n, "docker_network")) {
          out.push(violation(this, stack.name, w.where, `${w.role} is attached to network "${n}", which is not this environment's network`));
        }
      }
    }
    const kubeData = data.filter((d) => d.target === "kubernetes");
    if (kubeData.length === 0) return out;
    const policies = resources(stack, ...k8s("network_policy"));
    const denied = new Set(
      policies
        .filter((p) => {
          const spec = block(p.body.spec) ?? {};
          return selectsEveryPod(block(spec.pod_selector)) && strings(spec.policy_types).includes("Ingress") && blocks(spec.ingress).length === 0;
        })
        .map((p) => namespaceName(stack, str(block(p.body.metadata)?.namespace))),
    );
    for (const ns of new Set(kubeData.map((w) => namespaceName(stack, w.namespace)))) {
      if (!denied.has(ns)) {
        out.push(violation(this, stack.name, "*", `no default-deny NetworkPolicy (empty pod_selector, policy_types ["Ingress"], no ingress rules) in namespace ${ns}`, "add a kubernetes_network_policy_v1 that selects every pod and allows no ingress, then allow the app pods explicitly"));
      }
    }
    for (const p of policies) {
      const spec = block(p.body.spec) ?? {};
      // A policy without pod_selector is not checked here (the provider requires the block, so
      // Terraform rejects it before it could open anything).
      if (block(spec.pod_selector) === undefined) continue;
      const selected = kubeData.filter((w) => labelSelectorMatches(block(spec.pod_selector), w.podLabels, "all"));
      if (selected.length === 0) continue;
      const rules = blocks(spec.ingress);
      const target = selected[0]!.role;
      if (rules.some((r) => blocks(r.from).length === 0)) {
        out.push(violation(this, stack.name, p.address, `allows ingress to ${target} from anywhere (a rule without \`from\`)`, "list the app pods in `from.pod_selector`"));
      } else if (rules.some((r) => blocks(r.from).some((f) => block(f.ip_block) !== undefined || block(f.namespace_selector) !== undefined))) {
        out.push(violation(this, stack.name, p.address, `allows ingress to ${target} from outside the namespace (ip_block or namespace_selector)`, "allow only the app pods (`from.pod_selector`)"));
      }
    }
    return out;
  },
};

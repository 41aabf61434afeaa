/**
 * Labels of every object the Kubernetes target renders. Pods are selected (by Services,
 * NetworkPolicies, PodDisruptionBudgets and anti-affinity) by the two stable selector labels
 * only; the others describe and may change without orphaning a ReplicaSet.
 */
import type { ServiceName, ServiceSpec } from "../topology.js";

export const PART_OF = "jobstack";
export const NAME_LABEL = "app.kubernetes.io/name";
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
/** On the namespace: the environment's tier (dev, staging, prod); policy rules that differ by tier read it. */
export const TIER_LABEL = "jobstack.dev/tier";

/** The role label a NetworkPolicy or Service selects a service's pods by. */
export function selectorLabels(service: ServiceName): Record<string, string> {
  return { [NAME_LABEL]: service, [PART_OF_LABEL]: PART_OF };
}

export function objectLabels(spec: Pick<ServiceSpec, "name" | "kind">, environment: string): Record<string, string> {
  return {
    ...selectorLabels(spec.name),
    "app.kubernetes.io/component": spec.kind,
    "app.kubernetes.io/instance": environment,
    "app.kubernetes.io/managed-by": "cdktf",
  };
}

/** Labels of objects that belong to no one service (namespace, Secret, default-deny policy). */
export function systemLabels(environment: string): Record<string, string> {
  return { [PART_OF_LABEL]: PART_OF, "app.kubernetes.io/instance": environment, "app.kubernetes.io/managed-by": "cdktf" };
}

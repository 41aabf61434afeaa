/** The shape of a topology graph, and the small helpers its Docker and Kubernetes readers share. */
import type { Workload } from "../policy/model.js";

export interface GraphService {
  readonly id: string;
  readonly kind: string;
  readonly replicas: string;
  readonly image: string;
  readonly task: boolean;
  /** A data service run elsewhere (`external.*`): drawn outside the boundary, `image` is its endpoint. */
  readonly external?: boolean;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

export interface GraphVolume {
  readonly id: string;
  readonly service: string;
  readonly label: string;
}

export interface TopologyGraph {
  readonly stack: string;
  readonly target: "docker" | "kubernetes";
  /** The dedicated network (Docker) or namespace (Kubernetes). */
  readonly boundary: string;
  readonly services: readonly GraphService[];
  /** Where traffic enters from outside: the Docker host or the cluster's ingress. */
  readonly entry?: { readonly id: string; readonly label: string };
  /** Published ports and ingress routes, from `entry` to a service. */
  readonly published: readonly GraphEdge[];
  /** Allowed (Kubernetes) or intended (Docker) connections between services. */
  readonly edges: readonly GraphEdge[];
  /** Whether `edges` are enforced (NetworkPolicies) or only intended (shared Docker network). */
  readonly enforced: boolean;
  readonly volumes: readonly GraphVolume[];
}

/** A name usable as a Mermaid or DOT node id. */
export const safeId = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");

/** Workloads grouped by the service they belong to (its role, else container or resource name). */
export function grouped(ws: readonly Workload[]): Map<string, Workload[]> {
  const out = new Map<string, Workload[]>();
  for (const w of ws) {
    const id = w.role ?? w.container ?? w.resource.name;
    out.set(id, [...(out.get(id) ?? []), w]);
  }
  return out;
}

export function dedupeVolumes(vs: GraphVolume[]): GraphVolume[] {
  return [...new Map(vs.map((v) => [v.id, v])).values()];
}

/**
 * `jobstack graph`: the deployed topology of one stack, read from its Terraform JSON (not from the
 * TypeScript topology), rendered as Mermaid or Graphviz DOT.
 *
 * What lives here: the graph's shape (types.ts), how it is read from a Docker stack (docker.ts)
 * and from a Kubernetes stack (kubernetes.ts), and the two renderings (render.ts).
 * What it may import: stacks/policy/model.ts only — the target-neutral reading of Terraform JSON
 * that the policy rules use too — and nothing from stacks/policy/rules, the renderers or cdktf.
 *
 * What an edge means differs by target, and the picture says so:
 * - Kubernetes: edges are what the NetworkPolicies allow — a connection needs the source's
 *   egress and the destination's ingress to permit it, on the destination's container port; a
 *   pod no policy of a direction selects is unrestricted in that direction.
 * - Docker: a user-defined network cannot restrict traffic between its members, so every
 *   member can reach every other. The edges drawn (dashed) are the intended ones, read from the
 *   connection URLs in each container's environment (`postgres://…@postgres:5432/…`), and the
 *   network box says that it is shared.
 * - External data services (`external.*` in the environment file) are drawn outside the
 *   boundary: on Kubernetes from the egress NetworkPolicies that name them (annotations
 *   `jobstack.dev/external-service` and `…/external-endpoint`), on Docker from connection URLs
 *   whose host is no service of the stack.
 */
import { workloads, type SynthesizedStack } from "../policy/model.js";
import { dockerGraph } from "./docker.js";
import { kubernetesGraph } from "./kubernetes.js";
import type { TopologyGraph } from "./types.js";

export type { GraphEdge, GraphService, GraphVolume, TopologyGraph } from "./types.js";
export { toDot, toMermaid } from "./render.js";

export function topologyGraph(stack: SynthesizedStack): TopologyGraph {
  const ws = workloads(stack);
  return ws.some((w) => w.target === "kubernetes") ? kubernetesGraph(stack, ws) : dockerGraph(stack, ws);
}

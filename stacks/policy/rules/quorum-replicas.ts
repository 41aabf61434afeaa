/**
 * In a prod-like Kubernetes stack, quorum queues run on at least three RabbitMQ nodes.
 *
 * A quorum queue replicates to the other members of the cluster and keeps working while a
 * majority of them is up. On one node it has no replica: losing the node's volume loses every
 * queued message, and losing the node stops the system until it returns. Three is the smallest
 * cluster that survives a loss. The queue type is what the api and worker declare (their
 * QUEUE_TYPE). Docker targets run one node by design (docs/high-availability.md) and an external
 * RabbitMQ is its operator's business, so the rule reads only Kubernetes StatefulSets.
 */
import { block, k8s, num, resources, str, workloads } from "../model.js";
import { isProdLikeTier, stackTier } from "../tier.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

export const MIN_QUORUM_NODES = 3;

export const quorumReplicas: Rule = {
  id: "quorum-replicas",
  rationale: "A quorum queue on fewer than three nodes has no majority left after a loss: one node down stops it, one volume lost loses its messages.",
  fix: "set rabbitmq.replicas: 3 in the environment file (a RabbitMQ cluster), or declare external.rabbitmq",
  check(stack) {
    const tier = stackTier(stack);
    if (!isProdLikeTier(tier)) return [];
    const ws = workloads(stack);
    const quorum = ws.some((w) => (w.role === "api" || w.role === "worker") && w.env.some((e) => e.name === "QUEUE_TYPE" && e.value === "quorum"));
    if (!quorum) return [];
    const out: Violation[] = [];
    for (const set of resources(stack, ...k8s("stateful_set"))) {
      if (!ws.some((w) => w.resource.address === set.address && w.role === "rabbitmq")) continue;
      const replicas = num(block(set.body.spec)?.replicas) ?? 1;
      if (replicas < MIN_QUORUM_NODES) {
        out.push(
          violation(this, stack.name, set.address, `rabbitmq runs ${replicas} node${replicas === 1 ? "" : "s"} in tier ${tier ?? "?"} (${str(block(set.body.metadata)?.name) ?? set.name}), but the services declare quorum queues, which need at least ${MIN_QUORUM_NODES}`),
        );
      }
    }
    return out;
  },
};

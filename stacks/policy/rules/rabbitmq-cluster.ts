/**
 * A RabbitMQ StatefulSet of more than one node is a cluster that survives losing a node:
 *
 * - an odd node count (an even one tolerates no more losses than one node fewer);
 * - a PodDisruptionBudget selecting its pods that keeps a majority up (min_available ≥ n/2+1,
 *   or max_unavailable ≤ the minority), so a node drain never stops the quorum queues;
 * - required pod anti-affinity on `kubernetes.io/hostname`: two nodes of the cluster on one host
 *   would be lost together;
 * - `pod_management_policy: Parallel`: after a full stop the node that stopped last must start
 *   first, and OrderedReady would wait for pod 0 forever.
 *
 * See stacks/kubernetes/rabbitmq-cluster.ts for the shape that passes.
 */
import { block, blocks, dig, k8s, labelSelectorMatches, num, resources, selectsEveryPod, str, workloads } from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

const majority = (n: number): number => Math.floor(n / 2) + 1;

export const rabbitmqCluster: Rule = {
  id: "rabbitmq-cluster",
  rationale: "A RabbitMQ cluster keeps its queues only while a majority of its nodes runs: an even size, co-located nodes or an unbounded drain lose it.",
  fix: "render the cluster with stacks/kubernetes/rabbitmq-cluster.ts: odd replicas, a majority PDB, required hostname anti-affinity, Parallel pod management",
  check(stack) {
    const out: Violation[] = [];
    const ws = workloads(stack);
    const pdbs = resources(stack, ...k8s("pod_disruption_budget"));
    for (const set of resources(stack, ...k8s("stateful_set"))) {
      const w = ws.find((x) => x.resource.address === set.address && x.role === "rabbitmq" && !x.init);
      if (!w) continue;
      const spec = block(set.body.spec) ?? {};
      const replicas = num(spec.replicas) ?? 1;
      if (replicas <= 1) continue;
      if (replicas % 2 === 0) out.push(violation(this, stack.name, set.address, `rabbitmq runs an even number of nodes (${replicas}); ${replicas - 1} tolerate as many losses`));
      const selected = pdbs.filter((p) => {
        // A budget over every pod of the namespace (empty or absent selector) is no budget for this workload.
        const selector = dig(p.body, "spec", "selector")[0];
        return !selectsEveryPod(selector) && labelSelectorMatches(selector, w.podLabels, "none");
      });
      const keepsMajority = selected.some((p) => {
        const s = block(p.body.spec) ?? {};
        const min = num(s.min_available);
        const maxUnavailable = num(s.max_unavailable);
        return (min !== undefined && min >= majority(replicas)) || (maxUnavailable !== undefined && maxUnavailable >= 1 && maxUnavailable <= replicas - majority(replicas));
      });
      if (!keepsMajority) {
        out.push(violation(this, stack.name, set.address, `no PodDisruptionBudget keeps a majority (${majority(replicas)} of ${replicas}) of the rabbitmq nodes up`));
      }
      const pod = dig(set.body, "spec", "template", "spec")[0] ?? {};
      const hard = dig(pod, "affinity", "pod_anti_affinity", "required_during_scheduling_ignored_during_execution").some(
        (t) => str(t.topology_key) === "kubernetes.io/hostname" && blocks(t.label_selector).some((s) => labelSelectorMatches(s, w.podLabels, "none")),
      );
      if (!hard) out.push(violation(this, stack.name, set.address, "rabbitmq nodes may share a host: no required pod anti-affinity on kubernetes.io/hostname"));
      if (str(spec.pod_management_policy) !== "Parallel") {
        out.push(violation(this, stack.name, set.address, `rabbitmq uses pod_management_policy ${str(spec.pod_management_policy) ?? "OrderedReady"}; a cluster restarting from a full stop needs Parallel`));
      }
    }
    return out;
  },
};

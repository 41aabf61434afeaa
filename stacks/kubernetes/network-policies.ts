/**
 * NetworkPolicies: deny all ingress and egress in the namespace, then admit exactly the
 * topology's edges — each edge opened on both ends (egress from the client's pods, ingress to
 * the server's pods) on its one TCP port — plus DNS to kube-system for pods that open
 * connections (they dial services by name). Data services get no egress at all.
 *
 * The `ingress` edge (clients → api) admits only the ingress controller's namespace when the
 * environment names it (`kubernetes.ingress.controllerNamespace`); otherwise any source on the
 * api port, since a LoadBalancer or NodePort Service delivers node-SNATed or client addresses.
 *
 * A RabbitMQ cluster's nodes admit each other on epmd (4369), distribution (25672) and the CLI
 * tools' ports (35672–35682, so `rabbitmqctl -n <peer>` works from a node's pod), and may reach
 * the Kubernetes API (TCP 443/6443, any address: the API server's address is the cluster's own
 * business) for peer discovery.
 *
 * An external service (`external.*`) gets one egress policy for its clients, to its port only:
 * to `cidr` when the environment gives one, otherwise to any address (a managed database's
 * addresses can change; give `cidr` to pin them). Annotations name the service and endpoint, so
 * `jobstack graph` can draw it.
 *
 * The api alone also reaches RabbitMQ's management API (15672, an edge of stacks/topology.ts)
 * for the unacked count (docs/metrics.md).
 *
 * Not admitted, on purpose: Prometheus scraping /metrics (add a policy for your monitoring
 * namespace). Kubelet probes come from the node and are not subject to these policies on
 * common CNIs (Calico, Cilium).
 */
import { NetworkPolicyV1, type NetworkPolicyV1SpecEgress } from "@cdktf/provider-kubernetes/lib/network-policy-v1/index.js";
import { Construct } from "constructs";
import type { Edge, ServiceName, Topology } from "../topology.js";
import { NAME_LABEL, selectorLabels, systemLabels } from "./labels.js";

export const DNS_NAMESPACE = "kube-system";
export const DNS_POD_LABELS = { "k8s-app": "kube-dns" } as const;

export interface NetworkPoliciesProps {
  readonly namespace: string;
  readonly topology: Topology;
  /** Namespace of the ingress controller, the only source admitted to the api when set. */
  readonly ingressControllerNamespace?: string;
  /** Services that may reach the Kubernetes API server (RabbitMQ's peer discovery). @default none */
  readonly apiServerClients?: readonly ServiceName[];
}

export const EXTERNAL_SERVICE_ANNOTATION = "jobstack.dev/external-service";
export const EXTERNAL_ENDPOINT_ANNOTATION = "jobstack.dev/external-endpoint";
export const API_SERVER_PORTS = [443, 6443] as const;

const tcp = (port: number, endPort?: number) => ({ port: String(port), protocol: "TCP", ...(endPort !== undefined && endPort !== port ? { endPort } : {}) });

export function apiServerEgressRule(): NetworkPolicyV1SpecEgress {
  return { ports: API_SERVER_PORTS.map((p) => tcp(p)) };
}

export function dnsEgressRule(): NetworkPolicyV1SpecEgress {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": DNS_NAMESPACE } },
        podSelector: { matchLabels: { ...DNS_POD_LABELS } },
      },
    ],
    ports: [
      { port: "53", protocol: "UDP" },
      { port: "53", protocol: "TCP" },
    ],
  };
}

/** Who may open an edge: the client's pods, or for `ingress` the controller's namespace (any source when unnamed). */
function peersOf(from: Edge["from"], controllerNamespace: string | undefined) {
  if (from !== "ingress") return [{ podSelector: { matchLabels: selectorLabels(from) } }];
  return controllerNamespace ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": controllerNamespace } } }] : undefined;
}

export class NetworkPolicies extends Construct {
  readonly defaultDeny: NetworkPolicyV1;
  readonly policies: readonly NetworkPolicyV1[];

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const { namespace, topology } = props;
    const labels = systemLabels(topology.environment);
    this.defaultDeny = new NetworkPolicyV1(this, "default-deny", {
      metadata: { name: "default-deny", namespace, labels },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });

    const policies: NetworkPolicyV1[] = [];
    const known = new Set(topology.services.map((s) => s.name));
    for (const edge of topology.edges) {
      if (!known.has(edge.to) || (edge.from !== "ingress" && !known.has(edge.from))) {
        throw new Error(`edge ${edge.from} → ${edge.to} names a service the topology does not have`);
      }
    }
    for (const service of topology.services) {
      const name = service.name;
      const incoming = topology.edges.filter((e) => e.to === name);
      const outgoing = topology.edges.filter((e): e is Edge & { from: ServiceName } => e.from === name);
      if (incoming.length > 0) {
        policies.push(
          new NetworkPolicyV1(this, `${name}-ingress`, {
            metadata: { name: `${name}-ingress`, namespace, labels: selectorLabels(name) },
            spec: {
              podSelector: { matchLabels: selectorLabels(name) },
              policyTypes: ["Ingress"],
              ingress: incoming.map((e) => {
                const from = peersOf(e.from, props.ingressControllerNamespace);
                return { ...(from ? { from } : {}), ports: [tcp(e.port, e.endPort)] };
              }),
            },
          }),
        );
      }
      if (outgoing.length > 0) {
        policies.push(
          new NetworkPolicyV1(this, `${name}-egress`, {
            metadata: { name: `${name}-egress`, namespace, labels: selectorLabels(name) },
            spec: {
              podSelector: { matchLabels: selectorLabels(name) },
              policyTypes: ["Egress"],
              egress: [
                ...outgoing.map((e) => ({ to: [{ podSelector: { matchLabels: selectorLabels(e.to) } }], ports: [tcp(e.port, e.endPort)] })),
                ...(props.apiServerClients?.includes(name) ? [apiServerEgressRule()] : []),
                dnsEgressRule(),
              ],
            },
          }),
        );
      }
    }
    for (const ext of topology.external ?? []) {
      const clients = ext.clients.filter((c) => known.has(c));
      if (clients.length === 0) continue;
      policies.push(
        new NetworkPolicyV1(this, `external-${ext.name}-egress`, {
          metadata: {
            name: `external-${ext.name}-egress`,
            namespace,
            labels,
            annotations: { [EXTERNAL_SERVICE_ANNOTATION]: ext.name, [EXTERNAL_ENDPOINT_ANNOTATION]: `${ext.host}:${ext.port}` },
          },
          spec: {
            podSelector: { matchExpressions: [{ key: NAME_LABEL, operator: "In", values: [...clients] }] },
            policyTypes: ["Egress"],
            egress: [{ ...(ext.cidr ? { to: [{ ipBlock: { cidr: ext.cidr } }] } : {}), ports: [tcp(ext.port)] }],
          },
        }),
      );
    }
    this.policies = policies;
  }
}

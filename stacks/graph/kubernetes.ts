/**
 * The topology of a Kubernetes stack: its namespace, what the NetworkPolicies allow, what the
 * Ingress and non-ClusterIP Services publish, the PersistentVolumeClaims.
 */
import {
  block, blocks, dig, k8s, labelMap, labelSelectorMatches, num, podTemplate, resources, selectsEveryPod, serviceSelects, str, strings,
  type Json, type SynthesizedStack, type Workload,
} from "../policy/model.js";
import { dedupeVolumes, grouped, safeId, type GraphEdge, type GraphService, type GraphVolume, type TopologyGraph } from "./types.js";

interface Pod {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly number: number; readonly name?: string; readonly protocol: string }[];
}

function portAllowed(rule: Json, port: Pod["ports"][number]): boolean {
  const ports = blocks(rule.ports);
  return ports.length === 0 || ports.some((p) => (str(p.port) === String(port.number) || str(p.port) === port.name) && (str(p.protocol) ?? "TCP").toUpperCase() === port.protocol);
}

type Peer = Pod | "outside";

function peerMatches(peers: Json[], who: Peer): boolean {
  if (peers.length === 0) return true;
  return peers.some((peer) => {
    const outsidePeer = block(peer.namespace_selector) !== undefined || block(peer.ip_block) !== undefined;
    if (who === "outside") return outsidePeer;
    // A peer without pod_selector (and no namespace or address) names no pod.
    return !outsidePeer && labelSelectorMatches(block(peer.pod_selector), who.labels, "none");
  });
}

function policies(stack: SynthesizedStack, direction: "Ingress" | "Egress", pod: Pod): Json[] {
  return resources(stack, ...k8s("network_policy"))
    .map((p) => block(p.body.spec) ?? {})
    .filter((spec) => {
      const types = strings(spec.policy_types);
      const applies = types.length > 0 ? types.includes(direction) : direction === "Ingress";
      // Kubernetes reads an omitted spec.podSelector as the empty one: every pod.
      return applies && labelSelectorMatches(block(spec.pod_selector), pod.labels, "all");
    });
}

function allowed(stack: SynthesizedStack, from: Peer, to: Pod, port: Pod["ports"][number]): boolean {
  const ingress = policies(stack, "Ingress", to);
  const inOk = ingress.length === 0 || ingress.some((spec) => blocks(spec.ingress).some((r) => peerMatches(blocks(r.from), from) && portAllowed(r, port)));
  if (!inOk || from === "outside") return inOk;
  const egress = policies(stack, "Egress", from);
  return egress.length === 0 || egress.some((spec) => blocks(spec.egress).some((r) => peerMatches(blocks(r.to), to) && portAllowed(r, port)));
}

export function kubernetesGraph(stack: SynthesizedStack, ws: readonly Workload[]): TopologyGraph {
  const ns = resources(stack, ...k8s("namespace")).map((n) => str(block(n.body.metadata)?.name)).find(Boolean) ?? ws[0]?.namespace ?? "default";
  const deny = resources(stack, ...k8s("network_policy")).some((p) => {
    const spec = block(p.body.spec) ?? {};
    return selectsEveryPod(block(spec.pod_selector)) && blocks(spec.ingress).length === 0;
  });
  const groups = grouped(ws.filter((w) => !w.init));
  const hpas = resources(stack, "kubernetes_horizontal_pod_autoscaler_v2", ...k8s("horizontal_pod_autoscaler"));
  const services: GraphService[] = [...groups].map(([id, list]) => {
    const first = list[0]!;
    const name = str(block(first.resource.body.metadata)?.name);
    const hpa = hpas.find((h) => {
      const target = str(dig(h.body, "spec", "scale_target_ref")[0]?.name);
      return target !== undefined && (target === name || target.includes("${" + first.resource.address + "."));
    });
    const hpaSpec = hpa ? block(hpa.body.spec) : undefined;
    const replicas = hpaSpec
      ? `${str(hpaSpec.min_replicas) ?? "1"}–${str(hpaSpec.max_replicas) ?? "?"}`
      : first.kind === "job" ? "1" : str(block(first.resource.body.spec)?.replicas) ?? "1";
    return { id, kind: first.kind, replicas, image: first.image ?? "?", task: first.task };
  });
  const pods: Pod[] = [...groups].map(([id, list]) => {
    const tpl = podTemplate(list[0]!.resource);
    const containers = blocks(block(tpl?.spec)?.container);
    return {
      id,
      labels: list[0]!.podLabels,
      ports: containers.flatMap((c) =>
        blocks(c.port).map((p) => ({ number: num(p.container_port) ?? 0, ...(str(p.name) ? { name: str(p.name)! } : {}), protocol: (str(p.protocol) ?? "TCP").toUpperCase() })),
      ),
    };
  });
  const edges: GraphEdge[] = [];
  for (const from of pods) {
    for (const to of pods) {
      // A pod to its own kind: only the clustered services admit that (RabbitMQ nodes to each other).
      const ports = to.ports.filter((p) => allowed(stack, from, to, p));
      if (ports.length > 0) edges.push({ from: from.id, to: to.id, label: ports.map((p) => p.number).join(",") });
    }
  }
  // External services: one egress policy each, selecting its clients by name.
  for (const p of resources(stack, ...k8s("network_policy"))) {
    const annotations = labelMap(block(p.body.metadata)?.annotations);
    const name = annotations["jobstack.dev/external-service"];
    if (!name) continue;
    const spec = block(p.body.spec) ?? {};
    services.push({ id: name, kind: "external", replicas: "", image: annotations["jobstack.dev/external-endpoint"] ?? "?", task: false, external: true });
    const ports = blocks(spec.egress).flatMap((r) => blocks(r.ports).map((x) => str(x.port) ?? "?"));
    // The clients are the pods the policy names: one without pod_selector draws no client edge.
    for (const from of pods.filter((pod) => labelSelectorMatches(block(spec.pod_selector), pod.labels, "none"))) {
      edges.push({ from: from.id, to: name, label: [...new Set(ports)].join(",") });
    }
  }
  const published: GraphEdge[] = [];
  for (const to of pods) {
    const ports = to.ports.filter((p) => allowed(stack, "outside", to, p));
    if (ports.length === 0) continue;
    // What the outside connects to: the Ingress's own ports (443 with TLS, 80) or a Service's
    // port; the pod's port only when nothing stands in front of it.
    const routes = ingressRoutes(stack, to);
    published.push({ from: "entry", to: to.id, label: routes.length > 0 ? routes.join(" ") : `:${ports.map((p) => p.number).join(",")}` });
  }
  const volumes: GraphVolume[] = ws.flatMap((w) => {
    const templates = dig(w.resource.body, "spec", "volume_claim_template");
    return w.mounts
      .filter((m) => m.kind === "claim-template" || m.kind === "pvc")
      .map((m) => {
        const t = templates.find((x) => str(block(x.metadata)?.name) === m.source);
        const size = t ? str(dig(t, "spec", "resources", "requests")[0]?.storage) : undefined;
        return { id: `vol_${safeId(`${w.role ?? w.resource.name}_${m.source}`)}`, service: w.role ?? w.resource.name, label: `PVC ${m.source}${size ? ` ${size}` : ""} at ${m.target}` };
      });
  });
  return {
    stack: stack.name,
    target: "kubernetes",
    boundary: `namespace ${ns}${deny ? ": default-deny NetworkPolicies" : ": no default-deny NetworkPolicy"}`,
    services,
    entry: { id: "entry", label: "outside the namespace" },
    published,
    edges,
    enforced: true,
    volumes: dedupeVolumes(volumes),
  };
}

/** Ingress hosts and non-ClusterIP Services that lead to a pod. */
function ingressRoutes(stack: SynthesizedStack, pod: Pod): string[] {
  const routes: string[] = [];
  const services = resources(stack, ...k8s("service")).filter((s) => serviceSelects(block(s.body.spec)?.selector, pod.labels));
  for (const s of services) {
    const type = str(block(s.body.spec)?.type) ?? "ClusterIP";
    if (type !== "ClusterIP") {
      const servicePorts = dig(s.body, "spec", "port").map((p) => p.port).filter((p) => p !== undefined);
      routes.push(`Service ${type} :${servicePorts.join(",")}`);
    }
    const svcName = str(block(s.body.metadata)?.name);
    for (const ing of resources(stack, ...k8s("ingress"))) {
      // An ingress controller serves HTTP on 80, and HTTPS on 443 for the hosts its TLS lists.
      const tlsHosts = new Set(dig(ing.body, "spec", "tls").flatMap((t) => (Array.isArray(t.hosts) ? (t.hosts as unknown[]).map(String) : [])));
      for (const rule of dig(ing.body, "spec", "rule")) {
        const backends = dig(rule, "http", "path", "backend", "service").map((b) => str(b.name));
        const host = str(rule.host);
        if (backends.some((b) => b === svcName || (b !== undefined && b.includes(s.address)))) {
          routes.push(`Ingress ${host ?? "*"} ${host !== undefined && tlsHosts.has(host) ? ":443,80" : ":80"}`);
        }
      }
    }
  }
  return [...new Set(routes)];
}

/**
 * The deployed topology of one stack, read from its Terraform JSON (not from the TypeScript
 * topology), rendered as Mermaid or Graphviz DOT for `jobstack graph`.
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
import {
  block, blocks, dig, k8s, labelMap, num, podTemplate, referencedResource, resources, str, strings, workloads, type Json, type Workload,
} from "./model.js";
import type { SynthesizedStack } from "./types.js";
import { dockerHost } from "./rules/host-port-conflict.js";

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

const safeId = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, "_");
/** Which data service a connection URL variable points at. */
const URL_SERVICES: Readonly<Record<string, string>> = { DATABASE_URL: "postgres", REDIS_URL: "redis", AMQP_URL: "rabbitmq" };

function grouped(ws: readonly Workload[]): Map<string, Workload[]> {
  const out = new Map<string, Workload[]>();
  for (const w of ws) {
    const id = w.role ?? w.container ?? w.resource.name;
    out.set(id, [...(out.get(id) ?? []), w]);
  }
  return out;
}

// ---- Docker -------------------------------------------------------------------------------

function dockerGraph(stack: SynthesizedStack, ws: readonly Workload[]): TopologyGraph {
  const networks = resources(stack, "docker_network").map((n) => {
    const driver = str(n.body.driver) ?? "bridge";
    const encrypted = str(labelMap(n.body.options).encrypted) === "true" ? ", encrypted" : "";
    return `network ${str(n.body.name) ?? n.name} (${driver}${encrypted}): shared, every member can reach every other`;
  });
  const groups = grouped(ws);
  const services: GraphService[] = [...groups].map(([id, list]) => {
    const first = list[0]!;
    const replicas = first.kind === "docker_service" ? str(dig(first.resource.body, "mode", "replicated")[0]?.replicas) ?? "1" : String(list.length);
    return { id, kind: first.kind, replicas, image: first.image ?? "?", task: first.task };
  });
  const host = dockerHost(stack) ?? "docker host";
  const published = ws.flatMap((w) =>
    w.published.map((p) => ({ from: "entry", to: w.role ?? w.resource.name, label: `${p.hostPort ?? "random"}→${p.containerPort ?? "?"}/${p.protocol}` })),
  );
  const known = new Set(groups.keys());
  const edges = new Map<string, GraphEdge>();
  const externals = new Map<string, GraphService>();
  for (const w of ws) {
    for (const e of w.env) {
      const m = e.value ? /^[a-z][a-z0-9+.-]*:\/\/(?:.*@)?([A-Za-z0-9_.-]+):(\d+)/.exec(e.value) : null;
      const from = w.role ?? w.resource.name;
      // One edge per pair, every port on it (the api dials rabbitmq on AMQP and on the management API).
      if (m && known.has(m[1]!) && m[1] !== from) edges.set(`${from}>${m[1]}`, { from, to: m[1]!, label: withPort(edges.get(`${from}>${m[1]}`)?.label, m[2]!) });
      const service = URL_SERVICES[e.name];
      if (m && service && !known.has(m[1]!)) {
        externals.set(service, { id: service, kind: "external", replicas: "", image: `${m[1]}:${m[2]}`, task: false, external: true });
        edges.set(`${from}>${service}`, { from, to: service, label: m[2]! });
      }
    }
  }
  services.push(...externals.values());
  const volumes = ws.flatMap((w) =>
    w.mounts
      .filter((m) => m.kind === "volume" && m.source !== "")
      .map((m) => {
        const vol = referencedResource(stack, m.source, "docker_volume");
        const name = (vol && str(vol.body.name)) ?? m.source;
        const keep = vol && block(vol.body.lifecycle)?.prevent_destroy === true ? ", prevent_destroy" : "";
        return { id: `vol_${safeId(name)}`, service: w.role ?? w.resource.name, label: `volume ${name}${keep} at ${m.target}` };
      }),
  );
  return {
    stack: stack.name,
    target: "docker",
    boundary: networks.join("; ") || "no dedicated network",
    services,
    entry: { id: "entry", label: `host ${host}` },
    published: dedupe(published),
    edges: [...edges.values()],
    enforced: false,
    volumes: dedupeVolumes(volumes),
  };
}

// ---- Kubernetes ---------------------------------------------------------------------------

interface Pod {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly number: number; readonly name?: string; readonly protocol: string }[];
}

function matches(selector: Json | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  if (blocks(selector.match_expressions).length > 0) return false;
  return Object.entries(labelMap(selector.match_labels)).every(([k, v]) => labels[k] === v);
}

/** A selector with match_labels and `In` expressions (the external egress policies use both kinds). */
function selectsWithExpressions(selector: Json | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(labelMap(selector.match_labels)).every(([k, v]) => labels[k] === v);
  return byLabels && blocks(selector.match_expressions).every((e) => str(e.operator) === "In" && strings(e.values).includes(labels[str(e.key) ?? ""] ?? "\u0000"));
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
    return !outsidePeer && block(peer.pod_selector) !== undefined && matches(block(peer.pod_selector), who.labels);
  });
}

function policies(stack: SynthesizedStack, direction: "Ingress" | "Egress", pod: Pod): Json[] {
  return resources(stack, ...k8s("network_policy"))
    .map((p) => block(p.body.spec) ?? {})
    .filter((spec) => {
      const types = strings(spec.policy_types);
      const applies = types.length > 0 ? types.includes(direction) : direction === "Ingress";
      return applies && matches(block(spec.pod_selector), pod.labels);
    });
}

function allowed(stack: SynthesizedStack, from: Peer, to: Pod, port: Pod["ports"][number]): boolean {
  const ingress = policies(stack, "Ingress", to);
  const inOk = ingress.length === 0 || ingress.some((spec) => blocks(spec.ingress).some((r) => peerMatches(blocks(r.from), from) && portAllowed(r, port)));
  if (!inOk || from === "outside") return inOk;
  const egress = policies(stack, "Egress", from);
  return egress.length === 0 || egress.some((spec) => blocks(spec.egress).some((r) => peerMatches(blocks(r.to), to) && portAllowed(r, port)));
}

function kubernetesGraph(stack: SynthesizedStack, ws: readonly Workload[]): TopologyGraph {
  const ns = resources(stack, ...k8s("namespace")).map((n) => str(block(n.body.metadata)?.name)).find(Boolean) ?? ws[0]?.namespace ?? "default";
  const deny = resources(stack, ...k8s("network_policy")).some((p) => {
    const spec = block(p.body.spec) ?? {};
    return Object.keys(labelMap(block(spec.pod_selector)?.match_labels)).length === 0 && blocks(spec.ingress).length === 0;
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
    for (const from of pods.filter((pod) => selectsWithExpressions(block(spec.pod_selector), pod.labels))) {
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
  const services = resources(stack, ...k8s("service")).filter((s) => {
    const selector = labelMap(block(s.body.spec)?.selector);
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => pod.labels[k] === v);
  });
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

// ---- shared --------------------------------------------------------------------------------

function dedupe(edges: GraphEdge[]): GraphEdge[] {
  const seen = new Map<string, GraphEdge>();
  for (const e of edges) seen.set(`${e.from}>${e.to}>${e.label}`, e);
  return [...seen.values()];
}

function dedupeVolumes(vs: GraphVolume[]): GraphVolume[] {
  return [...new Map(vs.map((v) => [v.id, v])).values()];
}

export function topologyGraph(stack: SynthesizedStack): TopologyGraph {
  const ws = workloads(stack);
  return ws.some((w) => w.target === "kubernetes") ? kubernetesGraph(stack, ws) : dockerGraph(stack, ws);
}

const esc = (s: string): string => s.replace(/"/g, "#quot;");

function serviceText(s: GraphService): string {
  if (s.external) return `${s.id}<br/>external, not deployed<br/>${s.image}`;
  const what = s.task ? `${s.kind}, runs once` : `${s.kind} ×${s.replicas}`;
  return `${s.id}<br/>${what}<br/>${s.image}`;
}

export function toMermaid(g: TopologyGraph): string {
  const lines = ["flowchart LR"];
  if (g.entry && g.published.length > 0) lines.push(`  ${g.entry.id}(["${esc(g.entry.label)}"])`);
  for (const s of g.services.filter((x) => x.external)) lines.push(`  ${safeId(s.id)}[["${esc(serviceText(s))}"]]`);
  lines.push(`  subgraph boundary["${esc(g.boundary)}"]`);
  for (const s of g.services.filter((x) => !x.external)) lines.push(`    ${safeId(s.id)}["${esc(serviceText(s))}"]`);
  for (const v of g.volumes) lines.push(`    ${v.id}[("${esc(v.label)}")]`);
  lines.push("  end");
  for (const p of g.published) lines.push(`  ${p.from} -->|"${esc(p.label)}"| ${safeId(p.to)}`);
  const arrow = g.enforced ? "-->" : "-.->";
  for (const e of g.edges) lines.push(`  ${safeId(e.from)} ${arrow}|"${esc(e.label)}"| ${safeId(e.to)}`);
  for (const v of g.volumes) lines.push(`  ${safeId(v.service)} --- ${v.id}`);
  return lines.join("\n");
}

const dq = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function toDot(g: TopologyGraph): string {
  const lines = [`digraph ${dq(g.stack)} {`, "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"];
  if (g.entry && g.published.length > 0) lines.push(`  ${g.entry.id} [label=${dq(g.entry.label)}, shape=oval];`);
  const dotText = (s: GraphService) => serviceText(s).split("<br/>").map((l) => dq(l).slice(1, -1)).join("\\n");
  for (const s of g.services.filter((x) => x.external)) lines.push(`  ${safeId(s.id)} [label="${dotText(s)}", style=dashed];`);
  lines.push("  subgraph cluster_boundary {", `    label=${dq(g.boundary)};`);
  // `\n` inside a DOT string is its centred line break.
  for (const s of g.services.filter((x) => !x.external)) lines.push(`    ${safeId(s.id)} [label="${serviceText(s).split("<br/>").map((l) => dq(l).slice(1, -1)).join("\\n")}"];`);
  for (const v of g.volumes) lines.push(`    ${v.id} [label=${dq(v.label)}, shape=cylinder];`);
  lines.push("  }");
  for (const p of g.published) lines.push(`  ${p.from} -> ${safeId(p.to)} [label=${dq(p.label)}];`);
  const style = g.enforced ? "" : ", style=dashed";
  for (const e of g.edges) lines.push(`  ${safeId(e.from)} -> ${safeId(e.to)} [label=${dq(e.label)}${style}];`);
  for (const v of g.volumes) lines.push(`  ${safeId(v.service)} -> ${v.id} [arrowhead=none];`);
  lines.push("}");
  return lines.join("\n");
}

/** `label` with `port` added: ports in ascending order, each once (`5672,15672`). */
function withPort(label: string | undefined, port: string): string {
  const ports = new Set([...(label ? label.split(",") : []), port]);
  return [...ports].sort((a, b) => Number(a) - Number(b)).join(",");
}

/** The topology of a Docker stack: its shared network, published ports, intended edges, volumes. */
import { block, dig, dockerHost, labelMap, referencedResource, resources, str, type SynthesizedStack, type Workload } from "../policy/model.js";
import { dedupeVolumes, grouped, safeId, type GraphEdge, type GraphService, type TopologyGraph } from "./types.js";

/** Which data service a connection URL variable points at. */
const URL_SERVICES: Readonly<Record<string, string>> = { DATABASE_URL: "postgres", REDIS_URL: "redis", AMQP_URL: "rabbitmq" };

export function dockerGraph(stack: SynthesizedStack, ws: readonly Workload[]): TopologyGraph {
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

function dedupe(edges: GraphEdge[]): GraphEdge[] {
  const seen = new Map<string, GraphEdge>();
  for (const e of edges) seen.set(`${e.from}>${e.to}>${e.label}`, e);
  return [...seen.values()];
}

/** `label` with `port` added: ports in ascending order, each once (`5672,15672`). */
function withPort(label: string | undefined, port: string): string {
  const ports = new Set([...(label ? label.split(",") : []), port]);
  return [...ports].sort((a, b) => Number(a) - Number(b)).join(",");
}

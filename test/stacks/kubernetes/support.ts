/**
 * Helpers for tests over synthesized Kubernetes JSON. cdktf's jest matchers do not plug into
 * vitest, so the tests parse `Testing.synth` output and look at it directly.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { parse, stringify } from "yaml";
import { ENVIRONMENTS_DIR, loadEnvironment, type ResolvedEnvironment } from "../../../stacks/config/index.js";
import { buildTopology, type Topology } from "../../../stacks/topology.js";
import { envFromYaml, synthEnv } from "../support.js";

// Terraform JSON is untyped; the helpers below narrow what they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Resource {
  readonly type: string;
  readonly id: string;
  readonly body: Json;
}

export function synthEnvironment(env: ResolvedEnvironment): Json {
  return synthEnv(env).json;
}

/** Synthesizes constructs built by `build` inside a throwaway stack. */
export function synthConstructs(build: (scope: Construct) => void): Json {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

export function prod(preset?: string): { env: ResolvedEnvironment; topology: Topology } {
  const env = loadEnvironment("prod", preset);
  return { env, topology: buildTopology(env) };
}

/**
 * Resolves a variant of a shipped environment file, with `edit` applied to its parsed YAML
 * (e.g. a Docker twin of prod, or a dev-tier Kubernetes environment).
 */
export function environmentVariant(base: string, name: string, edit: (doc: Json) => void, preset?: string): ResolvedEnvironment {
  const doc = parse(readFileSync(join(ENVIRONMENTS_DIR, `${base}.yaml`), "utf8"));
  edit(doc);
  return envFromYaml(name, stringify(doc), preset);
}

export function resources(json: Json, type: string): Resource[] {
  return Object.entries((json.resource?.[type] ?? {}) as Record<string, Json>).map(([id, body]) => ({ type, id, body }));
}

export function resourceNamed(json: Json, type: string, name: string): Resource {
  const found = resources(json, type).filter((r) => r.body.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0]!;
}

export interface Workload {
  readonly kind: "Deployment" | "StatefulSet" | "Job";
  readonly name: string;
  readonly resource: Resource;
  readonly pod: Json;
  readonly podLabels: Record<string, string>;
}

const WORKLOAD_TYPES = {
  kubernetes_deployment_v1: "Deployment",
  kubernetes_stateful_set_v1: "StatefulSet",
  kubernetes_job_v1: "Job",
} as const;

export function workloads(json: Json): Workload[] {
  return Object.entries(WORKLOAD_TYPES).flatMap(([type, kind]) =>
    resources(json, type).map((r) => ({
      kind,
      name: r.body.metadata.name as string,
      resource: r,
      pod: r.body.spec.template.spec,
      podLabels: r.body.spec.template.metadata.labels as Record<string, string>,
    })),
  );
}

/** `${kubernetes_secret_v1.<id>.metadata[0].name}` for the one system Secret (a TLS Secret aside). */
export function secretNameRef(json: Json): string {
  const [secret, ...rest] = resources(json, "kubernetes_secret_v1").filter((r) => r.body.type !== "kubernetes.io/tls");
  if (!secret || rest.length > 0) throw new Error("expected exactly one Secret");
  return `\${kubernetes_secret_v1.${secret.id}.metadata[0].name}`;
}

const NAME = "app.kubernetes.io/name";

function selectedService(selector: Json): string {
  const labels = selector?.match_labels as Record<string, string> | undefined;
  if (!labels || Object.keys(labels).length === 0) return "*";
  if (selector.match_expressions) return `other:${JSON.stringify(selector)}`;
  return labels[NAME] ?? `other:${JSON.stringify(labels)}`;
}

function portsOf(rule: Json): string[] {
  const ports = (rule.ports ?? []) as Json[];
  if (ports.length === 0) return ["*"];
  return ports.map((p) => `${p.port}/${p.protocol ?? "TCP"}${p.end_port ? `-${p.end_port}` : ""}`);
}

const isDnsPeer = (peer: Json): boolean =>
  peer.namespace_selector?.match_labels?.["kubernetes.io/metadata.name"] === "kube-system" &&
  peer.pod_selector?.match_labels?.["k8s-app"] === "kube-dns" &&
  !peer.ip_block;

export interface PolicyEdges {
  /** `from->to:port/proto` admitted on the receiving side; `from` is `ingress` for any source. */
  readonly ingress: Set<string>;
  /** `from->to:port/proto` admitted on the sending side (in-namespace peers only). */
  readonly egress: Set<string>;
  /** Services allowed DNS (UDP and TCP 53 to kube-dns in kube-system). */
  readonly dns: Set<string>;
  /** Services with a DNS rule that is not exactly UDP+TCP 53. */
  readonly malformedDns: Set<string>;
  /** Policies selecting every pod in the namespace, as `types:ruleCount`. */
  readonly selectAll: string[];
}

/** Reads every NetworkPolicy and lists the connections they admit. */
/** A peer that selects one namespace by name and no pods: the ingress controller's. */
function isControllerNamespace(peer: Json): boolean {
  const labels = peer.namespace_selector?.match_labels as Record<string, string> | undefined;
  return !peer.pod_selector && !peer.ip_block && labels !== undefined && Object.keys(labels).join() === "kubernetes.io/metadata.name";
}

export function policyEdges(json: Json): PolicyEdges {
  const result: PolicyEdges = { ingress: new Set(), egress: new Set(), dns: new Set(), malformedDns: new Set(), selectAll: [] };
  for (const { body } of resources(json, "kubernetes_network_policy_v1")) {
    const spec = body.spec;
    const selected = selectedService(spec.pod_selector);
    const types = spec.policy_types as string[];
    if (selected === "*") {
      result.selectAll.push(`${[...types].sort().join("+")}:${(spec.ingress ?? []).length + (spec.egress ?? []).length}`);
      continue;
    }
    for (const rule of types.includes("Ingress") ? ((spec.ingress ?? []) as Json[]) : []) {
      const peers = (rule.from ?? []) as Json[];
      // "ingress": from anywhere, or from exactly the ingress controller's namespace.
      const sources = peers.length === 0 ? ["ingress"] : peers.map((p) => (isControllerNamespace(p) ? "ingress" : p.namespace_selector || p.ip_block ? `other:${JSON.stringify(p)}` : selectedService(p.pod_selector)));
      for (const s of sources) for (const port of portsOf(rule)) result.ingress.add(`${s}->${selected}:${port}`);
    }
    for (const rule of types.includes("Egress") ? ((spec.egress ?? []) as Json[]) : []) {
      const peers = (rule.to ?? []) as Json[];
      if (peers.length > 0 && peers.every(isDnsPeer)) {
        const ports = portsOf(rule).sort().join(",");
        (ports === "53/TCP,53/UDP" ? result.dns : result.malformedDns).add(selected);
        continue;
      }
      const targets = peers.length === 0 ? ["anywhere"] : peers.map((p) => (p.namespace_selector || p.ip_block ? `other:${JSON.stringify(p)}` : selectedService(p.pod_selector)));
      for (const t of targets) for (const port of portsOf(rule)) result.egress.add(`${selected}->${t}:${port}`);
    }
  }
  return result;
}

/** Walks a JSON value and yields every string in it. */
export function* strings(value: Json): Generator<string> {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (value && typeof value === "object") for (const v of Object.values(value)) yield* strings(v);
}

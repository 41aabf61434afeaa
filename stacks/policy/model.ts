/**
 * A target-neutral reading of the Terraform JSON, so each rule stays a few lines long.
 *
 * `workloads()` turns every container the stack would run — a `docker_container`, a Swarm
 * `docker_service`, or a container in a Kubernetes Deployment, StatefulSet, DaemonSet, Job,
 * CronJob or Pod — into one `Workload` with its image, environment, probes, limits, published
 * ports, mounts and security settings, in the provider's own attribute names (snake_case).
 *
 * A workload's role (api, worker, migrate, postgres, redis, rabbitmq) comes from what it is, never
 * from its construct id: first a role label (`app.kubernetes.io/name` as the Kubernetes renderer
 * sets it, `com.jobstack.service` as the Docker renderer does, or `jobstack.io/role`, `role`,
 * `app`), then the image for the data services (`postgres:16`, `redis:7`, `rabbitmq:3`), then the
 * last word of the container or resource name (`jobstack-dev-api`).
 *
 * cdktf writes a block that can occur once as an object and a repeatable block as an array;
 * `blocks()` reads either.
 *
 * Why it reads more than stacks/docker and stacks/kubernetes emit: the renderers write no
 * DaemonSet, CronJob, ReplicaSet or bare Pod, no tcp/grpc probe, no `host_network`,
 * `host_port`, `publish_all_ports`, `network_mode`, `cpu_quota` or `privileged`, and only
 * `app.kubernetes.io/name` / `com.jobstack.service` role labels. The model reads them anyway
 * because the rules are a guard, not a mirror of the renderers: `jobstack validate --out` checks
 * whatever `cdk.tf.json` it is given (a hand-edited one, or one from a renderer that starts
 * emitting a new kind), and a rule that cannot see a container or a field passes it silently.
 * The tests feed the model only synthesized stacks, some mutated (test/stacks/policy/rules.test.ts),
 * and none adds these kinds or fields: no test exercises these readings today.
 */
import type { SynthesizedStack } from "./types.js";
import { MIB } from "../../presets/tuning/units.js";

export type { SynthesizedStack } from "./types.js";

export type Json = Record<string, unknown>;

export interface TfResource {
  readonly type: string;
  readonly name: string;
  /** `<type>.<name>`, the Terraform address. */
  readonly address: string;
  readonly body: Json;
}

export const ROLES = ["api", "worker", "migrate", "postgres", "redis", "rabbitmq"] as const;
export type Role = (typeof ROLES)[number];
export const DATA_ROLES: readonly Role[] = ["postgres", "redis", "rabbitmq"];
export const APP_ROLES: readonly Role[] = ["api", "worker"];

const ROLE_LABEL_KEYS = ["app.kubernetes.io/name", "com.jobstack.service", "app.kubernetes.io/component", "jobstack.io/role", "jobstack/role", "jobstack.role", "role", "component", "app"];
const IMAGE_ROLES: Readonly<Record<string, Role>> = { postgres: "postgres", postgresql: "postgres", redis: "redis", valkey: "redis", rabbitmq: "rabbitmq" };

// ---- generic JSON access -------------------------------------------------------------------

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A nested block as a list, whether cdktf wrote it as one object or an array. */
export function blocks(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

export function block(v: unknown): Json | undefined {
  return blocks(v)[0];
}

/** Follows a path of block names, flattening repeated blocks. */
export function dig(v: unknown, ...path: string[]): Json[] {
  let current = blocks(v);
  for (const key of path) current = current.flatMap((b) => blocks(b[key]));
  return current;
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(str).filter((s): s is string => s !== undefined) : [];
}

export function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

export const isTrue = (v: unknown): boolean => v === true || v === "true";

/** True when the value is (or contains) a Terraform expression rather than plain text. */
export const hasExpression = (s: string): boolean => s.includes("${");

// ---- resources ----------------------------------------------------------------------------

export function resources(stack: SynthesizedStack, ...types: string[]): TfResource[] {
  const all = stack.json.resource ?? {};
  const wanted = types.length > 0 ? types : Object.keys(all);
  return wanted.flatMap((type) =>
    Object.entries(all[type] ?? {}).map(([name, body]) => ({ type, name, address: `${type}.${name}`, body: body as Json })),
  );
}

/** Kubernetes resource types with and without the `_v1` suffix. */
export const k8s = (kind: string): string[] => [`kubernetes_${kind}_v1`, `kubernetes_${kind}`];

/** The resource an interpolation such as `${docker_volume.data.name}` points to, if it is in this stack. */
export function referencedResource(stack: SynthesizedStack, value: string, type: string): TfResource | undefined {
  const m = new RegExp(`\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.`).exec(value);
  if (m) return resources(stack, type).find((r) => r.name === m[1]);
  return resources(stack, type).find((r) => str(r.body.name) === value);
}

/** A namespace reference (`${kubernetes_namespace_v1.x.metadata[0].name}`) resolved to its name. */
export function namespaceName(stack: SynthesizedStack, ns: string | undefined): string {
  if (ns === undefined) return "default";
  const m = /^\$\{(kubernetes_namespace(?:_v1)?)\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$/.exec(ns);
  if (!m) return ns;
  const r = resources(stack, m[1]!).find((x) => x.name === m[2]);
  return (r && str(block(r.body.metadata)?.name)) ?? ns;
}

export function isSensitiveVariable(stack: SynthesizedStack, name: string): boolean {
  return isTrue(stack.json.variable?.[name]?.sensitive);
}

// ---- labels and roles ---------------------------------------------------------------------

export function labelMap(v: unknown): Record<string, string> {
  if (Array.isArray(v)) {
    // Docker: [{ label, value }]
    const out: Record<string, string> = {};
    for (const b of blocks(v)) {
      const k = str(b.label);
      const val = str(b.value);
      if (k !== undefined && val !== undefined) out[k] = val;
    }
    return out;
  }
  if (isObject(v)) {
    return Object.fromEntries(Object.entries(v).flatMap(([k, val]) => (str(val) !== undefined ? [[k, str(val)!]] : [])));
  }
  return {};
}

const isRole = (s: string | undefined): s is Role => s !== undefined && (ROLES as readonly string[]).includes(s);

export function imageRepository(image: string): string {
  const noDigest = image.split("@")[0] ?? image;
  const last = noDigest.split("/").pop() ?? noDigest;
  return last.split(":")[0] ?? last;
}

export function roleOf(labels: Record<string, string>, image: string | undefined, names: readonly (string | undefined)[]): Role | undefined {
  for (const key of ROLE_LABEL_KEYS) {
    const v = labels[key];
    if (isRole(v)) return v;
  }
  if (image) {
    const fromImage = IMAGE_ROLES[imageRepository(image)];
    if (fromImage) return fromImage;
  }
  for (const name of names) {
    const last = name?.split(/[-_.]/).pop();
    if (isRole(last)) return last;
  }
  return undefined;
}

// ---- workloads ------------------------------------------------------------------------------

export interface EnvVar {
  readonly name: string;
  /** A literal or interpolated value; undefined when it comes from a Secret or ConfigMap. */
  readonly value?: string;
  /** Set by `value_from.secret_key_ref` (Kubernetes). */
  readonly fromSecret?: boolean;
}

export interface ProbeView {
  readonly kind: "http" | "exec" | "tcp" | "grpc" | "none";
  /** HTTP path, for http probes. */
  readonly path?: string;
  /** Everything the probe runs or requests, for messages and path searches. */
  readonly text: string;
}

export interface PublishedPort {
  /** Undefined: a random host port. */
  readonly hostPort?: number;
  readonly containerPort?: number;
  readonly protocol: string;
  /** Host address bound to; undefined means all addresses. */
  readonly ip?: string;
  /** How it is published, for messages. */
  readonly via: string;
}

export interface MountView {
  readonly kind: "volume" | "bind" | "tmpfs" | "pvc" | "claim-template" | "empty-dir" | "other";
  /** Volume name, claim name, host path. Empty for an anonymous volume. */
  readonly source: string;
  readonly target: string;
}

export interface SecurityView {
  readonly user?: string;
  readonly runAsNonRoot?: boolean;
  readonly runAsUser?: number;
  readonly capDrop: readonly string[];
  readonly capAdd: readonly string[];
  readonly privileged: boolean;
}

export interface Workload {
  readonly stack: string;
  readonly resource: TfResource;
  readonly target: "docker" | "kubernetes";
  /** docker_container, docker_service, deployment, stateful_set, daemon_set, job, cron_job, pod. */
  readonly kind: string;
  /** Container name inside a pod (Kubernetes). */
  readonly container?: string;
  /** `docker_container.x` or `kubernetes_deployment_v1.x (container api)`, for messages. */
  readonly where: string;
  readonly role?: Role;
  /** Runs to completion (migrations, init containers) rather than serving. */
  readonly task: boolean;
  /** A Kubernetes init container. */
  readonly init?: boolean;
  readonly image?: string;
  readonly env: readonly EnvVar[];
  /** Entrypoint, command and args in order. */
  readonly argv: readonly string[];
  readonly liveness?: ProbeView;
  readonly readiness?: ProbeView;
  readonly memoryLimitBytes?: number;
  readonly cpuLimit?: number;
  readonly published: readonly PublishedPort[];
  /** Docker networks attached (names or interpolations); network_mode when set. */
  readonly networks: readonly string[];
  readonly networkMode?: string;
  readonly mounts: readonly MountView[];
  readonly security: SecurityView;
  readonly labels: Readonly<Record<string, string>>;
  /** Pod-template labels (Kubernetes), for selector matching. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly namespace?: string;
}

/** Host addresses that mean "every address". */
const ANY_ADDRESS = ["", "0.0.0.0", "::", "[::]"];

/** Kubernetes quantities: `512Mi`, `1G`, `500m`, `2`. */
export function parseQuantity(v: unknown): number | undefined {
  const n = num(v);
  if (n !== undefined) return n;
  const s = str(v);
  if (!s) return undefined;
  const m = /^([0-9.]+)(m|k|Ki|M|Mi|G|Gi|T|Ti|E|Ei|P|Pi)?$/.exec(s.trim());
  if (!m) return undefined;
  const factor: Record<string, number> = {
    m: 1e-3, k: 1e3, Ki: 1024, M: 1e6, Mi: MIB, G: 1e9, Gi: 1024 * MIB, T: 1e12, Ti: 1024 ** 4, P: 1e15, Pi: 1024 ** 5, E: 1e18, Ei: 1024 ** 6,
  };
  return Number(m[1]) * (m[2] ? factor[m[2]]! : 1);
}

function dockerProbe(hc: Json | undefined): ProbeView | undefined {
  if (!hc) return undefined;
  const test = strings(hc.test);
  if (test.length === 0 || test[0] === "NONE") return { kind: "none", text: test.join(" ") };
  const text = (test[0] === "CMD" || test[0] === "CMD-SHELL" ? test.slice(1) : test).join(" ");
  return { kind: "exec", text };
}

function k8sProbe(p: Json | undefined): ProbeView | undefined {
  if (!p) return undefined;
  const http = block(p.http_get);
  if (http) return { kind: "http", path: str(http.path) ?? "/", text: `GET ${str(http.path) ?? "/"} on port ${str(http.port) ?? "?"}` };
  const exec = block(p.exec);
  if (exec) return { kind: "exec", text: strings(exec.command).join(" ") };
  const tcp = block(p.tcp_socket);
  if (tcp) return { kind: "tcp", text: `tcp ${str(tcp.port) ?? "?"}` };
  const grpc = block(p.grpc);
  if (grpc) return { kind: "grpc", text: `grpc ${str(grpc.port) ?? "?"}` };
  return { kind: "none", text: "" };
}

/** A docker image reference, with `${docker_image.x.…}` resolved to that image's name. */
export function resolveDockerImage(stack: SynthesizedStack, image: string | undefined): string | undefined {
  if (!image) return undefined;
  return image.replace(/\$\{docker_image\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g, (whole, name: string, attr: string) => {
    const img = resources(stack, "docker_image").find((r) => r.name === name);
    const imgName = img ? str(img.body.name) : undefined;
    if (!imgName) return whole;
    return attr === "repo_digest" ? `${imageRepository(imgName)}@sha256:(resolved at apply)` : imgName;
  });
}

function dockerContainer(stack: SynthesizedStack, r: TfResource): Workload {
  const b = r.body;
  const labels = labelMap(b.labels);
  const image = resolveDockerImage(stack, str(b.image));
  const env = strings(b.env).map((kv) => {
    const i = kv.indexOf("=");
    return i < 0 ? { name: kv } : { name: kv.slice(0, i), value: kv.slice(i + 1) };
  });
  const caps = block(b.capabilities);
  const probe = dockerProbe(block(b.healthcheck));
  const role = roleOf(labels, image, [str(b.name), str(b.hostname), r.name]);
  const cpus = num(b.cpus);
  const quota = num(b.cpu_quota);
  const period = num(b.cpu_period) ?? 100_000;
  const mem = num(b.memory);
  const published: PublishedPort[] = blocks(b.ports).map((p) => ({
    ...(num(p.external) !== undefined ? { hostPort: num(p.external)! } : {}),
    ...(num(p.internal) !== undefined ? { containerPort: num(p.internal)! } : {}),
    protocol: str(p.protocol) ?? "tcp",
    ...(str(p.ip) && !ANY_ADDRESS.includes(str(p.ip)!) ? { ip: str(p.ip)! } : {}),
    via: "ports",
  }));
  if (isTrue(b.publish_all_ports)) published.push({ protocol: "tcp", via: "publish_all_ports" });
  const mounts: MountView[] = [
    ...blocks(b.volumes).map((v): MountView => ({
      kind: str(v.host_path) ? "bind" : "volume",
      source: str(v.volume_name) ?? str(v.host_path) ?? "",
      target: str(v.container_path) ?? "",
    })),
    ...blocks(b.mounts).map((m): MountView => ({ kind: mountKind(str(m.type)), source: str(m.source) ?? "", target: str(m.target) ?? "" })),
  ];
  return {
    stack: stack.name,
    resource: r,
    target: "docker",
    kind: "docker_container",
    where: r.address,
    ...(role ? { role } : {}),
    task: role === "migrate" || b.must_run === false || isTrue(b.attach) || isTrue(b.rm),
    ...(image ? { image } : {}),
    env,
    argv: [...strings(b.entrypoint), ...strings(b.command)],
    ...(probe ? { liveness: probe, readiness: probe } : {}),
    ...(mem !== undefined && mem > 0 ? { memoryLimitBytes: mem * MIB } : {}),
    ...(cpus !== undefined && cpus > 0 ? { cpuLimit: cpus } : quota !== undefined && quota > 0 ? { cpuLimit: quota / period } : {}),
    published,
    networks: blocks(b.networks_advanced).map((n) => str(n.name) ?? ""),
    ...(str(b.network_mode) ? { networkMode: str(b.network_mode)! } : {}),
    mounts,
    security: {
      ...(str(b.user) ? { user: str(b.user)! } : {}),
      capDrop: strings(caps?.drop),
      capAdd: strings(caps?.add),
      privileged: isTrue(b.privileged),
    },
    labels,
    podLabels: labels,
  };
}

function mountKind(type: string | undefined): MountView["kind"] {
  return type === "volume" ? "volume" : type === "bind" ? "bind" : type === "tmpfs" ? "tmpfs" : "other";
}

function dockerService(stack: SynthesizedStack, r: TfResource): Workload {
  const b = r.body;
  const task = block(b.task_spec);
  const spec = block(task?.container_spec) ?? {};
  const labels = { ...labelMap(b.labels), ...labelMap(spec.labels) };
  const image = resolveDockerImage(stack, str(spec.image));
  const role = roleOf(labels, image, [str(b.name), str(spec.hostname), r.name]);
  const limits = dig(task, "resources", "limits")[0];
  const nano = num(limits?.nano_cpus);
  const memBytes = num(limits?.memory_bytes);
  const probe = dockerProbe(block(spec.healthcheck));
  const env = isObject(spec.env) ? Object.entries(spec.env).map(([name, v]) => ({ name, ...(str(v) !== undefined ? { value: str(v)! } : {}) })) : [];
  const mode = block(b.mode);
  const published: PublishedPort[] = dig(b, "endpoint_spec", "ports").map((p) => ({
    ...(num(p.published_port) !== undefined ? { hostPort: num(p.published_port)! } : {}),
    ...(num(p.target_port) !== undefined ? { containerPort: num(p.target_port)! } : {}),
    protocol: str(p.protocol) ?? "tcp",
    via: `endpoint_spec (${str(p.publish_mode) ?? "ingress"})`,
  }));
  return {
    stack: stack.name,
    resource: r,
    target: "docker",
    kind: "docker_service",
    where: r.address,
    ...(role ? { role } : {}),
    task: role === "migrate" || block(mode?.replicated_job) !== undefined || str(block(task?.restart_policy)?.condition) === "none",
    ...(image ? { image } : {}),
    env,
    argv: [...strings(spec.command), ...strings(spec.args)],
    ...(probe ? { liveness: probe, readiness: probe } : {}),
    ...(memBytes !== undefined && memBytes > 0 ? { memoryLimitBytes: memBytes } : {}),
    ...(nano !== undefined && nano > 0 ? { cpuLimit: nano / 1e9 } : {}),
    published,
    networks: blocks(task?.networks_advanced).map((n) => str(n.name) ?? ""),
    mounts: blocks(spec.mounts).map((m): MountView => ({ kind: mountKind(str(m.type)), source: str(m.source) ?? "", target: str(m.target) ?? "" })),
    security: {
      ...(str(spec.user) ? { user: str(spec.user)! } : {}),
      capDrop: strings(spec.cap_drop),
      capAdd: strings(spec.cap_add),
      privileged: false,
    },
    labels,
    podLabels: labels,
  };
}

/** Pod spec and pod-template metadata of a Kubernetes workload resource. */
const POD_PATHS: Readonly<Record<string, readonly string[]>> = {
  deployment: ["spec", "template"],
  stateful_set: ["spec", "template"],
  daemon_set: ["spec", "template"],
  replica_set: ["spec", "template"],
  job: ["spec", "template"],
  cron_job: ["spec", "job_template", "spec", "template"],
  pod: [],
};

export function kubernetesKind(type: string): string | undefined {
  const m = /^kubernetes_(.+?)(_v\d+)?$/.exec(type);
  return m && m[1] && m[1] in POD_PATHS ? m[1] : undefined;
}

/** The pod template (with `metadata` and `spec`) of a Kubernetes workload, or the pod itself. */
export function podTemplate(r: TfResource): Json | undefined {
  const kind = kubernetesKind(r.type);
  if (!kind) return undefined;
  const path = POD_PATHS[kind]!;
  return path.length === 0 ? r.body : dig(r.body, ...path)[0];
}

function kubernetesWorkloads(stack: SynthesizedStack, r: TfResource): Workload[] {
  const kind = kubernetesKind(r.type)!;
  const tpl = podTemplate(r);
  const pod = block(tpl?.spec) ?? {};
  const meta = block(r.body.metadata) ?? {};
  const labels = labelMap(meta.labels);
  const podLabels = labelMap(block(tpl?.metadata)?.labels);
  const podSec = block(pod.security_context) ?? {};
  const volumes = blocks(pod.volume);
  const claimTemplates = dig(r.body, "spec", "volume_claim_template").map((t) => str(block(t.metadata)?.name) ?? "");
  const namespace = str(meta.namespace);
  const inits = blocks(pod.init_container);
  const containers = [...inits, ...blocks(pod.container)];
  return containers.map((c) => {
    const init = inits.includes(c);
    const image = str(c.image);
    const name = str(c.name);
    const role = roleOf({ ...labels, ...podLabels }, image, [str(meta.name), name]);
    const sec = block(c.security_context) ?? {};
    const caps = block(sec.capabilities);
    const limits = dig(c, "resources", "limits")[0];
    const hostNetwork = isTrue(pod.host_network);
    const published: PublishedPort[] = blocks(c.port)
      .filter((p) => num(p.host_port) !== undefined || hostNetwork)
      .map((p) => ({
        hostPort: num(p.host_port) ?? num(p.container_port)!,
        ...(num(p.container_port) !== undefined ? { containerPort: num(p.container_port)! } : {}),
        protocol: (str(p.protocol) ?? "TCP").toLowerCase(),
        ...(str(p.host_ip) ? { ip: str(p.host_ip)! } : {}),
        via: hostNetwork ? "host_network" : "host_port",
      }));
    const mounts = blocks(c.volume_mount).map((m): MountView => {
      const volName = str(m.name) ?? "";
      const target = str(m.mount_path) ?? "";
      if (claimTemplates.includes(volName)) return { kind: "claim-template", source: volName, target };
      const vol = volumes.find((v) => str(v.name) === volName);
      const pvc = block(vol?.persistent_volume_claim);
      if (pvc) return { kind: "pvc", source: str(pvc.claim_name) ?? "", target };
      if (block(vol?.empty_dir) || vol?.empty_dir !== undefined) return { kind: "empty-dir", source: volName, target };
      const hp = block(vol?.host_path);
      if (hp) return { kind: "bind", source: str(hp.path) ?? "", target };
      return { kind: "other", source: volName, target };
    });
    const runAsUser = num(sec.run_as_user) ?? num(podSec.run_as_user);
    const runAsNonRoot = sec.run_as_non_root !== undefined ? isTrue(sec.run_as_non_root) : podSec.run_as_non_root !== undefined ? isTrue(podSec.run_as_non_root) : undefined;
    const liveness = k8sProbe(block(c.liveness_probe));
    const readiness = k8sProbe(block(c.readiness_probe));
    const mem = parseQuantity(limits?.memory);
    const cpu = parseQuantity(limits?.cpu);
    return {
      stack: stack.name,
      resource: r,
      target: "kubernetes" as const,
      kind,
      ...(name ? { container: name } : {}),
      where: name ? `${r.address} (container ${name})` : r.address,
      ...(role ? { role } : {}),
      task: kind === "job" || kind === "cron_job" || role === "migrate" || init,
      ...(init ? { init } : {}),
      ...(image ? { image } : {}),
      env: blocks(c.env).map((e) => ({
        name: str(e.name) ?? "",
        ...(str(e.value) !== undefined ? { value: str(e.value)! } : {}),
        ...(dig(e, "value_from", "secret_key_ref").length > 0 ? { fromSecret: true } : {}),
      })),
      argv: [...strings(c.command), ...strings(c.args)],
      ...(liveness ? { liveness } : {}),
      ...(readiness ? { readiness } : {}),
      ...(mem !== undefined && mem > 0 ? { memoryLimitBytes: mem } : {}),
      ...(cpu !== undefined && cpu > 0 ? { cpuLimit: cpu } : {}),
      published,
      networks: [],
      mounts,
      security: {
        ...(runAsNonRoot !== undefined ? { runAsNonRoot } : {}),
        ...(runAsUser !== undefined ? { runAsUser } : {}),
        capDrop: strings(caps?.drop),
        capAdd: strings(caps?.add),
        privileged: isTrue(sec.privileged),
      },
      labels,
      podLabels,
      ...(namespace ? { namespace } : {}),
    };
  });
}

/** Every container the stack would run. */
export function workloads(stack: SynthesizedStack): Workload[] {
  return [
    ...resources(stack, "docker_container").map((r) => dockerContainer(stack, r)),
    ...resources(stack, "docker_service").map((r) => dockerService(stack, r)),
    ...resources(stack)
      .filter((r) => kubernetesKind(r.type) !== undefined)
      .flatMap((r) => kubernetesWorkloads(stack, r)),
  ];
}

// ---- label selectors ----------------------------------------------------------------------

/**
 * Does a Kubernetes label selector (`match_labels` and `match_expressions`) select these labels?
 * The one matcher of the rules and the graph (stacks/graph), with Kubernetes' semantics:
 *
 * - every `match_labels` pair and every `match_expressions` requirement must hold: `In`, `NotIn`,
 *   `Exists`, `DoesNotExist`; an operator Kubernetes does not know selects nothing;
 * - a selector that is present but empty (the default-deny's `pod_selector {}`) selects every pod;
 * - what an absent selector means depends on the field, so the caller says it with `absent`:
 *   `"all"` for a NetworkPolicy's own `spec.pod_selector` (Kubernetes reads an omitted
 *   podSelector as the empty one, which selects every pod of the namespace); `"none"` where the
 *   caller treats "no selector" as "selects no pod" (see each caller's comment).
 *
 * A Service's `spec.selector` is a plain label map, not a label selector: `serviceSelects`.
 */
export function labelSelectorMatches(selector: Json | undefined, labels: Readonly<Record<string, string>>, absent: "all" | "none"): boolean {
  if (!selector) return absent === "all";
  const byLabels = Object.entries(labelMap(selector.match_labels)).every(([k, v]) => labels[k] === v);
  return byLabels && blocks(selector.match_expressions).every((e) => expressionHolds(e, labels));
}

function expressionHolds(e: Json, labels: Readonly<Record<string, string>>): boolean {
  const key = str(e.key) ?? "";
  const value = labels[key];
  switch (str(e.operator)) {
    case "In":
      return value !== undefined && strings(e.values).includes(value);
    case "NotIn":
      return value === undefined || !strings(e.values).includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      return false;
  }
}

/** A selector that selects every pod of its namespace: absent, or with no labels and no expressions. */
export function selectsEveryPod(selector: Json | undefined): boolean {
  return !selector || (Object.keys(labelMap(selector.match_labels)).length === 0 && blocks(selector.match_expressions).length === 0);
}

/**
 * Does a Service's `spec.selector` (a plain label map) select these labels? A Service whose
 * selector is absent or empty selects no pods: Kubernetes then leaves its endpoints to be
 * managed by hand, so nothing leads from it to a pod.
 */
export function serviceSelects(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const match = labelMap(selector);
  return Object.keys(match).length > 0 && labelSelectorMatches({ match_labels: match }, labels, "none");
}

// ---- targets ------------------------------------------------------------------------------

export const isDocker = (stack: SynthesizedStack): boolean =>
  resources(stack).some((r) => r.type.startsWith("docker_")) || stack.json.provider?.docker !== undefined;
export const isKubernetes = (stack: SynthesizedStack): boolean =>
  resources(stack).some((r) => r.type.startsWith("kubernetes_")) || stack.json.provider?.kubernetes !== undefined;

/** Where the `docker` provider talks to when its `host` is not set. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** The Docker host a stack deploys to, when it is a Docker stack. */
export function dockerHost(stack: SynthesizedStack): string | undefined {
  const config = stack.json.provider?.docker;
  if (config === undefined) return undefined;
  const first = blocks(config).find((p) => p.alias === undefined) ?? blocks(config)[0];
  return (first && str(first.host)) || DEFAULT_DOCKER_HOST;
}

/** Label of a workload for messages: its role when known. */
export const roleName = (w: Workload): string => w.role ?? w.container ?? w.resource.name;

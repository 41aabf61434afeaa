/**
 * One environment, two targets, the same numbers. prod (Kubernetes) and a Docker twin of it
 * (same file with `target: docker` and a bridge network, same preset) are synthesized, and the
 * derived settings are read back out of each cdk.tf.json — not out of the topology — and
 * compared: Node heap and libuv threads, JVM options, worker concurrency, Redis arguments,
 * Postgres `-c` settings, rabbitmq.conf, and the container limits they were derived from.
 */
import { describe, expect, it } from "vitest";
import { listPresets } from "../../presets/index.js";
import type { ResolvedEnvironment } from "../../stacks/config/index.js";
import { environmentVariant, resources, synthEnvironment, workloads, type Json } from "./kubernetes/support.js";

type Service = "api" | "worker" | "postgres" | "redis" | "rabbitmq";
const SERVICES: readonly Service[] = ["api", "worker", "postgres", "redis", "rabbitmq"];

/** What one target says about one service, in target-neutral terms. */
interface ServiceView {
  readonly env: Record<string, string>;
  readonly entrypoint: readonly string[];
  readonly args: readonly string[];
  /** Config file contents by mount path. */
  readonly files: Record<string, string>;
  readonly memoryMiB: number;
  readonly cpu: number;
}

function kubernetesViews(json: Json): Record<Service, ServiceView> {
  // A pod names its ConfigMap by reference to the resource (`${kubernetes_config_map_v1.<id>.metadata[0].name}`).
  const configMaps = new Map(
    resources(json, "kubernetes_config_map_v1").map((r) => [`\${kubernetes_config_map_v1.${r.id}.metadata[0].name}`, r.body.data as Record<string, string>]),
  );
  const views: Partial<Record<Service, ServiceView>> = {};
  for (const w of workloads(json)) {
    if (!SERVICES.includes(w.name as Service)) continue;
    const c = w.pod.container[0];
    const files: Record<string, string> = {};
    for (const m of (c.volume_mount ?? []) as Json[]) {
      const volume = ((w.pod.volume ?? []) as Json[]).find((v) => v.name === m.name);
      if (volume?.config_map) files[m.mount_path] = configMaps.get(volume.config_map.name)![m.sub_path]!;
    }
    const limits = c.resources.limits;
    // What the container sees: its env, plus ConfigMaps pulled in with envFrom; Kubernetes
    // expands $(NAME) in args from that environment (Postgres' settings travel this way).
    const env: Record<string, string> = Object.fromEntries(((c.env ?? []) as Json[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const expanded: Record<string, string> = { ...env };
    for (const from of (c.env_from ?? []) as Json[]) {
      for (const [key, value] of Object.entries(configMaps.get(from.config_map_ref.name) ?? {})) expanded[`${from.prefix ?? ""}${key}`] = value;
    }
    const expand = (arg: string) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => expanded[name] ?? whole);
    views[w.name as Service] = {
      env,
      entrypoint: c.command ?? [],
      args: ((c.args ?? []) as string[]).map(expand),
      files,
      memoryMiB: Number(/^(\d+)Mi$/.exec(limits.memory)![1]),
      cpu: Number(/^(\d+)m$/.exec(limits.cpu)![1]) / 1000,
    };
  }
  return views as Record<Service, ServiceView>;
}

function dockerViews(json: Json): Record<Service, ServiceView> {
  const containers = resources(json, "docker_container");
  if (containers.length === 0) throw new Error("no docker_container in the Docker twin (has stacks/docker landed?)");
  const byService = new Map<string, ServiceView[]>();
  for (const { body } of containers) {
    const label = ((body.labels ?? []) as Json[]).find((l) => l.label === "com.jobstack.service")?.value as string | undefined;
    if (!label) continue;
    const env = Object.fromEntries(
      ((body.env ?? []) as string[]).filter((e) => !e.includes("${")).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
    const view: ServiceView = {
      env,
      entrypoint: body.entrypoint ?? [],
      args: body.command ?? [],
      files: Object.fromEntries(((body.upload ?? []) as Json[]).map((u) => [u.file, u.content])),
      memoryMiB: Number(body.memory),
      cpu: Number(body.cpus),
    };
    byService.set(label, [...(byService.get(label) ?? []), view]);
  }
  const views: Partial<Record<Service, ServiceView>> = {};
  for (const s of SERVICES) {
    const all = byService.get(s) ?? [];
    if (all.length === 0) throw new Error(`the Docker twin renders no ${s} container`);
    // Replicas of one service must not differ in any derived value.
    for (const other of all.slice(1)) expect(other).toEqual(all[0]);
    views[s] = all[0]!;
  }
  return views as Record<Service, ServiceView>;
}

function dockerTwin(preset?: string, runtime: "node" | "jvm" = "node"): ResolvedEnvironment {
  return environmentVariant(
    "prod",
    "prod-docker",
    (doc) => {
      doc.target = "docker";
      delete doc.kubernetes;
      doc.docker = { host: "unix:///var/run/docker.sock", network: { driver: "bridge" }, apiPort: 8080 };
      // Docker runs one RabbitMQ node; prod's cluster size is Kubernetes-only (docs/high-availability.md).
      doc.rabbitmq = { replicas: 1 };
      doc.worker = { runtime };
    },
    preset,
  );
}

function kubernetesTwin(preset?: string, runtime: "node" | "jvm" = "node"): ResolvedEnvironment {
  return environmentVariant("prod", "prod", (doc) => void (doc.worker = { runtime }), preset);
}

/** `-c name=value` pairs of a Postgres command line. */
function postgresSettings(args: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a === "-c") {
      const [name, ...value] = (args[i + 1] ?? "").split("=");
      settings[name!] = value.join("=");
    }
  });
  return settings;
}

const argAfter = (args: readonly string[], flag: string) => args[args.indexOf(flag) + 1];

describe.each(listPresets())("prod rendered to Docker and Kubernetes with preset %s", (preset) => {
  const docker = dockerTwin(preset);
  const kubernetes = kubernetesTwin(preset);
  const d = dockerViews(synthEnvironment(docker));
  const k = kubernetesViews(synthEnvironment(kubernetes));

  it("uses the same preset and derived settings on both sides", () => {
    expect(docker.presetSelection.name).toBe(preset);
    // Every derived setting except the connection budget, which counts the worker autoscaling
    // maximum only where autoscaling exists (Kubernetes); Docker runs the preset's replicas.
    const { connections: dockerBudget, ...dockerRest } = docker.derived;
    const { connections: kubernetesBudget, ...kubernetesRest } = kubernetes.derived;
    expect(dockerRest).toEqual(kubernetesRest);
    expect(dockerBudget.workerReplicas).toBe(docker.preset.worker.replicas);
    const autoscaling = kubernetes.preset.worker.autoscaling;
    expect(kubernetesBudget.workerReplicas).toBe(autoscaling?.enabled ? autoscaling.maxReplicas : kubernetes.preset.worker.replicas);
  });

  it("gives the api and workers the same Node heap, libuv pool and worker concurrency", () => {
    for (const s of ["api", "worker"] as const) {
      for (const name of ["NODE_OPTIONS", "UV_THREADPOOL_SIZE", "WORKER_CONCURRENCY", "DB_POOL_SIZE", "LEASE_MS"]) {
        expect(k[s].env[name], `${s} ${name}`).toBeDefined();
        expect(d[s].env[name], `${s} ${name}`).toBe(k[s].env[name]);
      }
      expect(d[s].env).toEqual(k[s].env);
    }
    expect(k.api.env.NODE_OPTIONS).toBe(kubernetes.derived.api.node.env.NODE_OPTIONS);
    expect(k.worker.env.NODE_OPTIONS).toBe(kubernetes.derived.worker.node.env.NODE_OPTIONS);
    expect(k.worker.env.WORKER_CONCURRENCY).toBe(String(kubernetes.preset.worker.concurrency));
  });

  it("starts Redis with the same maxmemory and policy", () => {
    expect(d.redis.args).toEqual(k.redis.args);
    expect(d.redis.entrypoint).toEqual(k.redis.entrypoint);
    expect(argAfter(k.redis.args, "--maxmemory")).toBe(String(kubernetes.derived.redis.maxmemoryBytes));
    expect(argAfter(k.redis.args, "--maxmemory-policy")).toBe(kubernetes.preset.redis.policy);
  });

  it("starts Postgres with the same settings", () => {
    const ks = postgresSettings(k.postgres.args);
    expect(Object.keys(ks)).toEqual(expect.arrayContaining(["shared_buffers", "effective_cache_size", "work_mem", "max_connections"]));
    expect(postgresSettings(d.postgres.args)).toEqual(ks);
    expect(ks.max_connections).toBe(String(kubernetes.preset.postgres.maxConnections));
  });

  it("configures RabbitMQ with the same rabbitmq.conf and absolute watermark", () => {
    // The tuned conf is the same file on both; prod's cluster adds its peer discovery files.
    expect(k.rabbitmq.files).toMatchObject(d.rabbitmq.files);
    expect(Object.keys(k.rabbitmq.files).sort()).toEqual([...Object.keys(d.rabbitmq.files), "/etc/rabbitmq/advanced.config", "/etc/rabbitmq/conf.d/30-cluster.conf", "/etc/rabbitmq/enabled_plugins"].sort());
    const conf = Object.values(k.rabbitmq.files).join("\n");
    expect(conf).toContain(`vm_memory_high_watermark.absolute = ${kubernetes.derived.rabbitmq.watermarkBytes}`);
  });

  it("limits every service to the same memory and CPU the numbers were derived from", () => {
    for (const s of SERVICES) {
      expect({ s, memoryMiB: d[s].memoryMiB, cpu: d[s].cpu }).toEqual({ s, memoryMiB: k[s].memoryMiB, cpu: k[s].cpu });
    }
  });
});

describe("a JVM worker rendered to Docker and Kubernetes", () => {
  it("gets the same JAVA_TOOL_OPTIONS", () => {
    const d = dockerViews(synthEnvironment(dockerTwin(undefined, "jvm")));
    const kubernetes = kubernetesTwin(undefined, "jvm");
    const k = kubernetesViews(synthEnvironment(kubernetes));
    expect(k.worker.env.JAVA_TOOL_OPTIONS).toBe(kubernetes.derived.worker.jvm.javaToolOptions);
    expect(d.worker.env.JAVA_TOOL_OPTIONS).toBe(k.worker.env.JAVA_TOOL_OPTIONS);
    expect(k.worker.env.NODE_OPTIONS).toBeUndefined();
  });
});

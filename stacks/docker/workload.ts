/**
 * The one workload construct every service is rendered with: image + environment + ports +
 * health check + resources + security, as `docker_container`s on a bridge network (one per
 * replica) or as one Swarm `docker_service` on an overlay network. It composes the shared
 * settings (`containerConfig`, `swarmServiceConfig`) with the features the service's spec
 * switches on (features.ts); a feature may add settings but never override a shared one
 * (additions.ts).
 *
 * Rendering rules, one place for all services:
 * - Network: every replica joins the environment's network with the topology name as alias,
 *   which is the host name in the connection URLs (`postgres`, `redis`, `rabbitmq`).
 * - Ports: only a port with `publish` is published (the api). On a bridge host, replica i of a
 *   multi-replica api publishes `publish + i`, since one host port cannot be bound twice; on
 *   Swarm the routing mesh balances one published port over all replicas.
 * - Secrets: environment values are filled from Terraform variables or generated passwords with
 *   `fillSecret`, so cdk.tf.json carries `${var.…}` / `${random_password.…}` references only.
 * - Resources: hard memory limit (swap disabled: memory_swap = memory) and a CPU limit on every
 *   container; Swarm tasks get limits plus a memory reservation so the scheduler never
 *   overcommits memory (CPU is compressible and not reserved, so small Swarms still schedule).
 * - Security: capabilities dropped to the topology's list, the topology's user, read-only root
 *   with tmpfs scratch folders, no-new-privileges (containers; the Swarm API has no such field).
 * - Lifecycle: app and data services restart `unless-stopped` (Swarm: condition any); a task
 *   runs once (see features.ts). Data containers set `wait`, so Terraform creates dependents only
 *   after the health check passes; on Swarm, `converge_config` waits for the tasks to run, and a
 *   Swarm task with a health check only counts as running once it is healthy.
 * - Logs: json-file with rotation (10 MiB × 3), so a chatty service cannot fill the disk.
 */
import type { ContainerConfig } from "@cdktf/provider-docker/lib/container/index.js";
import { Container } from "@cdktf/provider-docker/lib/container/index.js";
import type { ServiceConfig, ServiceTaskSpecContainerSpec, ServiceTaskSpecContainerSpecMounts, ServiceUpdateConfig } from "@cdktf/provider-docker/lib/service/index.js";
import { Service } from "@cdktf/provider-docker/lib/service/index.js";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { MIB } from "../../presets/tuning/units.js";
import { labelList } from "../render-helpers.js";
import { fillSecret, type SecretTokens } from "../secrets.js";
import type { ServiceSpec } from "../topology.js";
import { combineAdditions, withAdditions, type WorkloadAdditions } from "./additions.js";
import { FEATURES } from "./features.js";
import { dockerHealthcheck, healthyWithinSeconds, seconds } from "./health.js";
import type { DockerContext, WorkloadProps } from "./workload-props.js";

export type { DockerContext, WorkloadProps } from "./workload-props.js";

/** Docker log rotation for every container and task. */
export const LOG_OPTIONS = { "max-size": "10m", "max-file": "3" } as const;
/** tmpfs options for read-only roots: world-writable with the sticky bit, like /tmp, no exec. */
const TMPFS_OPTIONS = "rw,noexec,nosuid,nodev,size=64m,mode=1777";
const TMPFS_SIZE_BYTES = 64 * MIB;
/**
 * Seconds between SIGTERM and SIGKILL. The worker drains (finishes or releases in-flight jobs)
 * on SIGTERM, and Postgres writes a shutdown checkpoint; Docker's 10 s default cuts both short.
 */
const STOP_GRACE_SECONDS = { app: 30, data: 60, task: 30 } as const;
/**
 * Swarm node label that pins stateful services to the node holding their volumes: named volumes
 * are node-local, so a Postgres task rescheduled elsewhere would start on an empty volume.
 * The README's Swarm prerequisites say which node to label.
 */
export const DATA_NODE_LABEL = "jobstack-data";

export class DockerWorkload extends Construct {
  readonly spec: ServiceSpec;
  /** Docker name of the service (Swarm) or of replica 0 (containers), e.g. `jobstack-dev-api`. */
  readonly dockerName: string;
  /** Bridge mode: one container per replica, replica 0 first. Empty on Swarm. */
  readonly containers: readonly Container[];
  /** Swarm mode: the service. */
  readonly service?: Service;
  /** Host ports this workload publishes, in replica order. */
  readonly publishedPorts: readonly number[];

  constructor(scope: Construct, id: string, props: WorkloadProps) {
    super(scope, id);
    const { spec, context } = props;
    this.spec = spec;
    this.dockerName = dockerNameOf(props);
    for (const v of spec.volumes) {
      if (!props.volumes?.has(v.name)) throw new Error(`${spec.name}: volume '${v.name}' was not declared for it`);
    }
    // Features run first: a config file's Swarm config is created before the service using it.
    const additions = combineAdditions(FEATURES.map((feature) => feature(this, props)), spec.name);
    if (context.mode === "containers") {
      const count = spec.kind === "task" ? 1 : spec.replicas;
      this.containers = Array.from({ length: count }, (_, i) => {
        const config = withAdditions(containerConfig(props, i), additions.container, `${spec.name} container`);
        return new Container(this, i === 0 ? "container" : `container-${i + 1}`, config);
      });
      this.publishedPorts = spec.ports.flatMap((p) => (p.publish ? Array.from({ length: count }, (_, i) => p.publish! + i) : []));
    } else {
      this.containers = [];
      this.service = new Service(this, "service", swarmServiceConfig(props, additions));
      this.publishedPorts = spec.ports.flatMap((p) => (p.publish ? [p.publish] : []));
    }
    for (const port of this.publishedPorts) {
      if (port > 65535) throw new Error(`${spec.name}: replica ports from ${this.publishedPorts[0]} run past 65535; lower docker.apiPort or the replicas`);
    }
  }

  /** The resources dependents wait for. */
  get dependables(): ITerraformDependable[] {
    return this.service ? [this.service] : [...this.containers];
  }
}

const dockerNameOf = ({ spec, context }: WorkloadProps): string => `${context.prefix}-${spec.name}`;

/** Plain and secret-filled variables, sorted by name. */
function envEntries(spec: ServiceSpec, secrets: SecretTokens): [string, string][] {
  const plain = Object.entries(spec.env);
  const secret = Object.entries(spec.secretEnv).map(([k, v]) => [k, fillSecret(v, secrets)] as [string, string]);
  return [...plain, ...secret].sort(([a], [b]) => a.localeCompare(b));
}

/** The shared settings of replica `replica`'s container (bridge mode). */
export function containerConfig(props: WorkloadProps, replica: number): ContainerConfig {
  const { spec, context } = props;
  const task = spec.kind === "task";
  const dockerName = dockerNameOf(props);
  const security = spec.security;
  return {
    name: replica === 0 ? dockerName : `${dockerName}-${replica + 1}`,
    image: props.image.imageId,
    ...(spec.entrypoint ? { entrypoint: [...spec.entrypoint] } : {}),
    ...(spec.command.length > 0 ? { command: [...spec.command] } : {}),
    env: envEntries(spec, context.secrets).map(([k, v]) => `${k}=${v}`),
    networksAdvanced: [{ name: context.network.resource.name, aliases: [spec.name] }],
    ...nonEmpty("ports", spec.ports.flatMap((p) => (p.publish ? [{ internal: p.containerPort, external: p.publish + replica, protocol: "tcp" }] : []))),
    ...(spec.health ? { healthcheck: dockerHealthcheck(spec.health, spec.probeRuntime ?? "node") } : {}),
    ...(spec.kind === "data" && spec.health ? { wait: true, waitTimeout: healthyWithinSeconds(spec.health) } : {}),
    memory: spec.resources.memoryMiB,
    memorySwap: spec.resources.memoryMiB,
    cpus: String(spec.resources.cpu),
    restart: task ? "no" : "unless-stopped",
    ...(task ? { mustRun: false } : {}),
    stopTimeout: STOP_GRACE_SECONDS[spec.kind],
    destroyGraceSeconds: STOP_GRACE_SECONDS[spec.kind],
    user: security.user,
    readOnly: security.readOnlyRootFilesystem,
    ...(security.readOnlyRootFilesystem && security.tmpfs.length > 0
      ? { tmpfs: Object.fromEntries(security.tmpfs.map((path) => [path, TMPFS_OPTIONS])) }
      : {}),
    capabilities: { drop: ["ALL"], ...(security.capAdd.length > 0 ? { add: [...security.capAdd] } : {}) },
    securityOpts: ["no-new-privileges:true"],
    ...nonEmpty("volumes", spec.volumes.map((v) => ({ volumeName: props.volumes!.get(v.name)!.name, containerPath: v.mountPath }))),
    logDriver: "json-file",
    logOpts: { ...LOG_OPTIONS },
    labels: labelList({ ...context.labels, "com.jobstack.service": spec.name, "com.jobstack.replica": String(replica) }),
    ...(props.dependsOn && props.dependsOn.length > 0 ? { dependsOn: [...props.dependsOn] } : {}),
  };
}

/** The Swarm service (overlay mode): shared settings, with the features' container fields and mounts added. */
export function swarmServiceConfig(props: WorkloadProps, additions: WorkloadAdditions = {}): ServiceConfig {
  const { spec, context } = props;
  const security = spec.security;
  const health = spec.health;
  const data = spec.kind === "data";
  const task = spec.kind === "task";
  const tmpfsMounts: ServiceTaskSpecContainerSpecMounts[] = security.readOnlyRootFilesystem
    ? security.tmpfs.map((target) => ({ type: "tmpfs", target, tmpfsOptions: { sizeBytes: TMPFS_SIZE_BYTES, mode: 0o1777 } }))
    : [];
  const volumeMounts: ServiceTaskSpecContainerSpecMounts[] = spec.volumes.map((v) => ({
    type: "volume",
    source: props.volumes!.get(v.name)!.name,
    target: v.mountPath,
  }));
  const sharedContainerSpec: ServiceTaskSpecContainerSpec = {
    // The tag, not the local image id: other Swarm nodes pull by reference.
    image: props.image.name,
    ...(spec.entrypoint ? { command: [...spec.entrypoint] } : {}),
    ...(spec.command.length > 0 ? { args: [...spec.command] } : {}),
    env: Object.fromEntries(envEntries(spec, context.secrets)),
    ...(health ? { healthcheck: dockerHealthcheck(health, spec.probeRuntime ?? "node") } : {}),
    user: security.user,
    readOnly: security.readOnlyRootFilesystem,
    capDrop: ["ALL"],
    ...(security.capAdd.length > 0 ? { capAdd: [...security.capAdd] } : {}),
    stopGracePeriod: seconds(STOP_GRACE_SECONDS[spec.kind]),
    ...nonEmpty("mounts", [...volumeMounts, ...tmpfsMounts, ...(additions.swarmMounts ?? [])]),
    labels: labelList({ ...context.labels, "com.jobstack.service": spec.name }),
  };
  const containerSpec = withAdditions(sharedContainerSpec, additions.swarmContainer, `${spec.name} Swarm container`);
  const published = spec.ports.filter((p) => p.publish);
  const monitor = health ? seconds(healthyWithinSeconds(health)) : "30s";
  return {
    name: dockerNameOf(props),
    labels: labelList({ ...context.labels, "com.jobstack.service": spec.name }),
    mode: { replicated: { replicas: task || data ? 1 : spec.replicas } },
    taskSpec: {
      containerSpec,
      networksAdvanced: [{ name: context.network.resource.id, aliases: [spec.name] }],
      resources: {
        limits: { nanoCpus: Math.round(spec.resources.cpu * 1e9), memoryBytes: spec.resources.memoryMiB * MIB },
        reservation: { memoryBytes: spec.resources.memoryMiB * MIB },
      },
      // A task runs until it succeeds (a few tries for a Postgres that is still starting);
      // everything else is restarted whenever it stops.
      restartPolicy: task
        ? { condition: "on-failure", delay: "10s", maxAttempts: 3, window: "120s" }
        : { condition: "any", delay: "5s", window: "120s" },
      ...(data ? { placement: { constraints: [`node.labels.${DATA_NODE_LABEL} == true`] } } : {}),
      logDriver: { name: "json-file", options: { ...LOG_OPTIONS } },
    },
    // A one-shot task (migrate) exits by design: inside a monitor window Swarm counts that exit
    // as a failed update, and `pause` would leave every later update of the service paused.
    // So no monitor window and `continue`; whether the task succeeded is its restart policy's
    // business (on-failure, a few attempts).
    updateConfig: task
      ? { ...updateSettings(context, true, "0s"), failureAction: "continue" }
      : { ...updateSettings(context, data, monitor), failureAction: "rollback" },
    rollbackConfig: task
      ? { ...updateSettings(context, true, "0s"), failureAction: "continue" }
      : { ...updateSettings(context, data, monitor), failureAction: "pause" },
    ...(published.length > 0
      ? {
          endpointSpec: {
            ports: published.map((p) => ({ name: p.name, protocol: "tcp", targetPort: p.containerPort, publishedPort: p.publish!, publishMode: "ingress" })),
          },
        }
      : {}),
    // Terraform waits until the tasks run (healthy); a task that exits never converges.
    ...(!task && health ? { convergeConfig: { delay: "5s", timeout: seconds(healthyWithinSeconds(health) + 60) } } : {}),
    ...(props.dependsOn && props.dependsOn.length > 0 ? { dependsOn: [...props.dependsOn] } : {}),
  };
}

/**
 * Rolling update settings from the topology's rollout: surge → start-first with that many at a
 * time; no surge → stop-first, `maxUnavailable` at a time. A service holding a volume is always
 * stop-first, one at a time: two Postgres processes must never open the same data directory.
 */
function updateSettings(context: DockerContext, exclusive: boolean, monitor: string): ServiceUpdateConfig {
  const { maxSurge, maxUnavailable } = context.rollout;
  const startFirst = !exclusive && maxSurge > 0;
  return {
    parallelism: exclusive ? 1 : Math.max(1, startFirst ? maxSurge : maxUnavailable),
    order: startFirst ? "start-first" : "stop-first",
    delay: "5s",
    monitor,
    maxFailureRatio: "0",
  };
}

/** `{ key: items }` when there are items, else nothing: keeps empty lists out of cdk.tf.json. */
function nonEmpty<K extends string, T>(key: K, items: readonly T[]): { [P in K]?: T[] } {
  return (items.length > 0 ? { [key]: [...items] } : {}) as { [P in K]?: T[] };
}

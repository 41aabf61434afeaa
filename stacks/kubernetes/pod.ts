/**
 * The shared part of every workload: one topology service → one container and its pod spec
 * (image, args, env with Secret references, ports, probes, resources, security context,
 * scratch volumes). Deployment, StatefulSet and Job templates are the same Kubernetes PodSpec;
 * the provider generates a distinct TypeScript type for each, structurally identical, so this
 * file builds the Deployment's and the others accept it.
 *
 * Choices written down here:
 * - Requests equal limits for every container (Guaranteed QoS). The derived numbers — Node heap,
 *   JVM RAM percentage, Redis maxmemory, Postgres shared_buffers, RabbitMQ's absolute watermark —
 *   are computed from the preset's limit and assume all of it is there; a Burstable pod would be
 *   the first evicted under node pressure. It also keeps the HPA's `targetCpuPercent` (a share
 *   of the *request*) meaning "of the preset's CPU".
 * - Startup probes replace Docker's start period: they run the liveness check every
 *   min(interval, 5) s until it first passes, with the same total budget as Docker
 *   (startPeriodSeconds + retries × intervalSeconds); liveness and readiness begin after it.
 * - Service links are off (a Service named `rabbitmq` would inject RABBITMQ_* variables the image
 *   reads) and no service account token is mounted: nothing here talks to the API server.
 */
import type {
  DeploymentV1SpecTemplateSpec,
  DeploymentV1SpecTemplateSpecContainer,
  DeploymentV1SpecTemplateSpecContainerLivenessProbe,
  DeploymentV1SpecTemplateSpecContainerEnv,
  DeploymentV1SpecTemplateSpecContainerVolumeMount,
  DeploymentV1SpecTemplateSpecVolume,
} from "@cdktf/provider-kubernetes/lib/deployment-v1/index.js";
import type { HealthCheck, Probe, ServiceSpec } from "../topology.js";
import { selectorLabels } from "./labels.js";
import { cpuQuantity, memoryQuantity, parseUser, volumeNameForPath } from "./quantities.js";

export type PodSpec = DeploymentV1SpecTemplateSpec;
export type ContainerSpec = DeploymentV1SpecTemplateSpecContainer;
type ProbeSpec = DeploymentV1SpecTemplateSpecContainerLivenessProbe;

/** Cap on each scratch emptyDir, so a runaway temp file cannot fill the node's disk. */
export const SCRATCH_SIZE_LIMIT = "1Gi";
const STARTUP_PERIOD_CAP_SECONDS = 5;

export interface PodOptions {
  /** Name of the Secret holding every SecretValue key. */
  readonly secretName: string;
  /** ConfigMap name for each of the service's config files (by ConfigFile.name). */
  readonly configMaps?: Readonly<Record<string, string>>;
  /** ConfigMaps whose keys become environment variables (with a prefix). */
  readonly envFromConfigMaps?: readonly { readonly name: string; readonly prefix: string }[];
  /** Give the pod's volumes to the service's group (StatefulSets: PVCs writable by uid 999). @default false */
  readonly fsGroup?: boolean;
  /** Prefer spreading replicas across nodes. @default false */
  readonly spreadAcrossNodes?: boolean;
  /** @default "Always" (Kubernetes' default; Jobs pass "Never") */
  readonly restartPolicy?: "Always" | "OnFailure" | "Never";
  /** Hostnames that resolve to 127.0.0.1 inside the pod. @default none */
  readonly localHostnames?: readonly string[];
  /** @default 30 (Kubernetes' default) */
  readonly terminationGracePeriodSeconds?: number;
  /** Command run before SIGTERM. @default none */
  readonly preStop?: readonly string[];
  /** Whether the container gets probes. @default true when the service has a health check */
  readonly probes?: boolean;
  /**
   * Spread replicas over nodes and zones with topologySpreadConstraints (maxSkew 1, ScheduleAnyway,
   * see spreadConstraints). @default false
   */
  readonly spreadOverZones?: boolean;
  /**
   * Run under this ServiceAccount with its token mounted (RabbitMQ's peer discovery asks the API
   * server for its peers). @default none: no account token is mounted
   */
  readonly serviceAccountName?: string;
}

/** Zone and node labels every cloud provider and kubeadm set (well-known labels). */
export const ZONE_KEY = "topology.kubernetes.io/zone";
export const HOSTNAME_KEY = "kubernetes.io/hostname";

/**
 * Even spread over zones, then nodes, as a preference (ScheduleAnyway). A hard constraint
 * (DoNotSchedule) would leave replacement pods Pending after a zone outage: the lost zone's
 * nodes still count as domains with zero pods, so every other zone would exceed maxSkew.
 */
export function spreadConstraints(service: ServiceSpec["name"]) {
  return [ZONE_KEY, HOSTNAME_KEY].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: [{ matchLabels: selectorLabels(service) }],
  }));
}

function action(probe: Probe): Pick<ProbeSpec, "httpGet" | "exec"> {
  return probe.kind === "http"
    ? { httpGet: { path: probe.path, port: String(probe.port), scheme: "HTTP" } }
    : { exec: { command: [...probe.command] } };
}

/** Liveness, readiness and (for a non-zero start period) startup probes from the topology timings. */
export function probes(health: HealthCheck): Pick<ContainerSpec, "livenessProbe" | "readinessProbe" | "startupProbe"> {
  const timing = { periodSeconds: health.intervalSeconds, timeoutSeconds: health.timeoutSeconds, failureThreshold: health.retries };
  const result: Pick<ContainerSpec, "livenessProbe" | "readinessProbe" | "startupProbe"> = {
    livenessProbe: { ...action(health.liveness), ...timing },
    readinessProbe: { ...action(health.readiness), ...timing },
  };
  if (health.startPeriodSeconds <= 0) return result;
  const period = Math.min(health.intervalSeconds, STARTUP_PERIOD_CAP_SECONDS);
  const budgetSeconds = health.startPeriodSeconds + health.retries * health.intervalSeconds;
  return {
    ...result,
    startupProbe: {
      ...action(health.liveness),
      periodSeconds: period,
      timeoutSeconds: health.timeoutSeconds,
      failureThreshold: Math.ceil(budgetSeconds / period),
    },
  };
}

/** Plain variables as values; every secret-bearing one as a `secret_key_ref`, never a value. */
export function containerEnv(spec: ServiceSpec, secretName: string): DeploymentV1SpecTemplateSpecContainerEnv[] {
  const overlap = Object.keys(spec.secretEnv).filter((name) => name in spec.env);
  if (overlap.length > 0) throw new Error(`${spec.name}: ${overlap.join(", ")} is set both in env and in secretEnv`);
  return [
    ...Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    ...Object.entries(spec.secretEnv).map(([name, secret]) => ({
      name,
      valueFrom: { secretKeyRef: { name: secretName, key: secret.key, optional: false } },
    })),
  ];
}

/** File name inside a ConfigMap: the basename of the mount path. */
export const configKey = (mountPath: string): string => mountPath.split("/").pop() ?? mountPath;

interface VolumePlan {
  readonly volumes: DeploymentV1SpecTemplateSpecVolume[];
  readonly mounts: DeploymentV1SpecTemplateSpecContainerVolumeMount[];
}

function volumes(spec: ServiceSpec, options: PodOptions): VolumePlan {
  const plan: VolumePlan = { volumes: [], mounts: [] };
  for (const path of spec.security.tmpfs) {
    const name = `scratch-${volumeNameForPath(path)}`;
    plan.volumes.push({ name, emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } });
    plan.mounts.push({ name, mountPath: path });
  }
  if (spec.shmSizeMiB !== undefined) {
    // Postgres' parallel workers use POSIX shared memory; a container's /dev/shm is 64 MiB.
    plan.volumes.push({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: memoryQuantity(spec.shmSizeMiB) } });
    plan.mounts.push({ name: "dshm", mountPath: "/dev/shm" });
  }
  for (const file of spec.configFiles) {
    const configMap = options.configMaps?.[file.name];
    if (!configMap) throw new Error(`${spec.name}: no ConfigMap rendered for config file ${file.name}`);
    const key = configKey(file.mountPath);
    plan.volumes.push({ name: file.name, configMap: { name: configMap, defaultMode: "0444", items: [{ key, path: key }] } });
    // subPath keeps the rest of the target folder (the image's own conf.d files) visible.
    plan.mounts.push({ name: file.name, mountPath: file.mountPath, subPath: key, readOnly: true });
  }
  // Data volumes are the StatefulSet's volumeClaimTemplates, mounted under the same name.
  for (const volume of spec.volumes) plan.mounts.push({ name: volume.name, mountPath: volume.mountPath });
  return plan;
}

export function container(spec: ServiceSpec, options: PodOptions, mounts: DeploymentV1SpecTemplateSpecContainerVolumeMount[]): ContainerSpec {
  const { uid, gid } = parseUser(spec.security.user);
  const resources = { cpu: cpuQuantity(spec.resources.cpu), memory: memoryQuantity(spec.resources.memoryMiB) };
  const withProbes = (options.probes ?? true) && spec.health !== undefined;
  return {
    name: spec.name,
    image: spec.image.ref,
    // Every image is pinned (schema), so a cached copy is the right one.
    imagePullPolicy: "IfNotPresent",
    ...(spec.entrypoint ? { command: [...spec.entrypoint] } : {}),
    ...(spec.command.length > 0 ? { args: [...spec.command] } : {}),
    env: containerEnv(spec, options.secretName),
    ...(options.envFromConfigMaps?.length
      ? { envFrom: options.envFromConfigMaps.map((m) => ({ prefix: m.prefix, configMapRef: { name: m.name } })) }
      : {}),
    port: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: "TCP" })),
    resources: { limits: resources, requests: resources },
    ...(withProbes && spec.health ? probes(spec.health) : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: spec.security.readOnlyRootFilesystem,
      capabilities: { drop: ["ALL"], ...(spec.security.capAdd.length > 0 ? { add: [...spec.security.capAdd] } : {}) },
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(options.preStop ? { lifecycle: { preStop: [{ exec: { command: [...options.preStop] } }] } } : {}),
    volumeMount: mounts,
  };
}

export function podSpec(spec: ServiceSpec, options: PodOptions): PodSpec {
  const { uid, gid } = parseUser(spec.security.user);
  const plan = volumes(spec, options);
  return {
    automountServiceAccountToken: options.serviceAccountName !== undefined,
    ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
    enableServiceLinks: false,
    ...(options.restartPolicy ? { restartPolicy: options.restartPolicy } : {}),
    ...(options.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: options.terminationGracePeriodSeconds } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid,
      ...(options.fsGroup ? { fsGroup: gid, fsGroupChangePolicy: "OnRootMismatch" } : {}),
      seccompProfile: { type: "RuntimeDefault" },
    },
    ...(options.localHostnames && options.localHostnames.length > 0
      ? { hostAliases: [{ ip: "127.0.0.1", hostnames: [...options.localHostnames] }] }
      : {}),
    ...(options.spreadAcrossNodes
      ? {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: [{ matchLabels: selectorLabels(spec.name) }] },
                },
              ],
            },
          },
        }
      : {}),
    ...(options.spreadOverZones ? { topologySpreadConstraint: spreadConstraints(spec.name) } : {}),
    container: [container(spec, options, plan.mounts)],
    volume: plan.volumes,
  };
}

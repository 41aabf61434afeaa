/**
 * A stateful backend (Postgres, Redis, RabbitMQ): a StatefulSet of one with a PVC per data
 * volume, a headless Service named after the service (so `postgres:5432` in the connection URLs
 * resolves to the pod), a ConfigMap per config file, and one for Postgres' settings
 * (postgres-settings.ts).
 *
 * - PVCs outlive the pods and the StatefulSet: `persistent_volume_claim_retention_policy` is
 *   Retain on delete and on scale-down (Kubernetes ≥ 1.27), so `cdktf destroy` leaves the data.
 * - The pod resolves its own service name to 127.0.0.1: RabbitMQ's fixed node name
 *   `rabbit@rabbitmq` must resolve before the pod is ready, and a headless Service only
 *   publishes ready pods.
 * - Postgres answers SIGTERM with a *smart* shutdown that waits for every pooled client to
 *   disconnect; Docker stops it with SIGINT, Kubernetes cannot, so a preStop hook runs a fast
 *   shutdown inside the grace period instead of a SIGKILL and crash recovery.
 * - A checksum of the config files (and Postgres' settings) is a pod annotation: a changed
 *   rabbitmq.conf or setting rolls the pod
 *   (subPath mounts are never refreshed in place).
 */
import { createHash } from "node:crypto";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1/index.js";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1/index.js";
import { StatefulSetV1 } from "@cdktf/provider-kubernetes/lib/stateful-set-v1/index.js";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ServiceName, ServiceSpec } from "../topology.js";
import { objectLabels, selectorLabels } from "./labels.js";
import { configKey, podSpec } from "./pod.js";
import { externalizeSettings, POSTGRES_SETTINGS_CONFIG_MAP, SETTING_ENV_PREFIX } from "./postgres-settings.js";
import { storageQuantity } from "./quantities.js";

export const CONFIG_CHECKSUM_ANNOTATION = "jobstack.dev/config-checksum";
const DATA_GRACE_SECONDS = 60;
const PRE_STOP: Partial<Record<ServiceName, readonly string[]>> = {
  postgres: ["sh", "-c", 'pg_ctl stop -D "$PGDATA" -m fast -w -t 50'],
};

export interface DataServiceProps {
  readonly namespace: string;
  readonly environment: string;
  readonly spec: ServiceSpec;
  readonly storageClass: string;
  readonly secretName: string;
  readonly dependsOn?: readonly ITerraformDependable[];
}

export function configChecksum(spec: ServiceSpec): string | undefined {
  if (spec.configFiles.length === 0) return undefined;
  const hash = createHash("sha256");
  for (const f of spec.configFiles) hash.update(`${f.name}\0${f.mountPath}\0${f.content}\0`);
  return hash.digest("hex");
}

export class DataService extends Construct {
  readonly service: ServiceV1;
  readonly statefulSet: StatefulSetV1;
  readonly configMaps: readonly ConfigMapV1[];

  constructor(scope: Construct, id: string, props: DataServiceProps) {
    super(scope, id);
    const { namespace } = props;
    // Postgres' -c settings move into a ConfigMap and come back as $(VAR) references.
    const settings = props.spec.name === "postgres" ? externalizeSettings(props.spec.command) : undefined;
    const spec: ServiceSpec = settings ? { ...props.spec, command: settings.args } : props.spec;
    if (spec.kind !== "data") throw new Error(`DataService renders data services; ${spec.name} is ${spec.kind}`);
    if (spec.replicas !== 1) throw new Error(`${spec.name}: replicas (${spec.replicas}) must be 1; the data services are not clustered`);
    const labels = objectLabels(spec, props.environment);
    const selector = selectorLabels(spec.name);

    const configMaps: Record<string, string> = {};
    this.configMaps = spec.configFiles.map((file) => {
      const map = new ConfigMapV1(this, `config-${file.name}`, {
        metadata: { name: file.name, namespace, labels },
        data: { [configKey(file.mountPath)]: file.content },
      });
      configMaps[file.name] = map.metadata.name;
      return map;
    });
    let settingsMapName: string | undefined;
    if (settings) {
      const map = new ConfigMapV1(this, "config-postgres-settings", {
        metadata: { name: POSTGRES_SETTINGS_CONFIG_MAP, namespace, labels },
        data: settings.settings,
      });
      this.configMaps = [...this.configMaps, map];
      settingsMapName = map.metadata.name; // a reference, so Terraform creates the map first
    }

    this.service = new ServiceV1(this, "service", {
      metadata: { name: spec.name, namespace, labels },
      spec: {
        clusterIp: "None",
        selector,
        port: spec.ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.name, protocol: "TCP" })),
      },
    });

    const parts = [configChecksum(spec), settings?.checksum].filter((c): c is string => c !== undefined);
    const checksum = parts.length > 1 ? createHash("sha256").update(parts.join("\0")).digest("hex") : parts[0];
    const preStop = PRE_STOP[spec.name];
    this.statefulSet = new StatefulSetV1(this, "stateful-set", {
      metadata: { name: spec.name, namespace, labels },
      spec: {
        serviceName: this.service.metadata.name,
        replicas: "1",
        selector: { matchLabels: selector },
        updateStrategy: [{ type: "RollingUpdate" }],
        persistentVolumeClaimRetentionPolicy: [{ whenDeleted: "Retain", whenScaled: "Retain" }],
        volumeClaimTemplate: volumeClaimTemplates(spec, labels, props.storageClass),
        template: {
          metadata: { labels, ...(checksum ? { annotations: { [CONFIG_CHECKSUM_ANNOTATION]: checksum } } : {}) },
          spec: podSpec(spec, {
            secretName: props.secretName,
            configMaps,
            ...(settingsMapName ? { envFromConfigMaps: [{ name: settingsMapName, prefix: SETTING_ENV_PREFIX }] } : {}),
            fsGroup: true,
            localHostnames: [spec.name],
            terminationGracePeriodSeconds: DATA_GRACE_SECONDS,
            ...(preStop ? { preStop } : {}),
          }),
        },
      },
      ...(props.dependsOn ? { dependsOn: [...props.dependsOn] } : {}),
    });
  }
}

/** One ReadWriteOnce claim per volume of the service: the data outlives the pod. */
export function volumeClaimTemplates(spec: ServiceSpec, labels: Record<string, string>, storageClass: string) {
  return spec.volumes.map((v) => ({
    metadata: { name: v.name, labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: storageClass,
      resources: { requests: { storage: storageQuantity(v.sizeGiB) } },
    },
  }));
}

/**
 * What some services need beyond the shared workload (workload.ts), each feature switched on by
 * data in the service's topology spec, never by its name. Each returns additions (additions.ts),
 * which may fill settings the shared workload leaves unset but never override one.
 *
 * - Run to completion (`kind: "task"`, the migration). Containers: `attach` makes Terraform wait
 *   until the process exits, and a postcondition on `exit_code` fails the deploy when it failed,
 *   before api and worker (which depend on it) are touched; `must_run = false` and restart "no"
 *   (shared workload) keep a finished container from being restarted or re-created on the next
 *   plan. A new image replaces the container, so the migration runs again on every release;
 *   migrations are idempotent (each applied once, in a transaction). Swarm: the shared workload's
 *   on-failure restart policy (three tries) runs it until it succeeds once. Swarm cannot make the
 *   api wait for it; the api answers 503 on /readyz until the schema exists, then recovers.
 * - Shared memory (`shmSizeMiB`, Postgres' parallel query workers): `shm_size` on a container;
 *   a sized tmpfs at /dev/shm on Swarm, which has no shm_size.
 * - Config files (`configFiles`, RabbitMQ's derived rabbitmq.conf): uploaded into the container,
 *   or a Swarm config. Swarm configs are immutable, so the name carries a hash of the content and
 *   a new one is created before the old one is removed.
 * - Fixed host name (`hostname`): RabbitMQ's node name `rabbit@rabbitmq`, and with it the data
 *   directory, survives a replaced container.
 */
import { createHash } from "node:crypto";
import { Config } from "@cdktf/provider-docker/lib/config/index.js";
import type { Construct } from "constructs";
import { MIB } from "../../presets/tuning/units.js";
import type { WorkloadAdditions } from "./additions.js";
import type { WorkloadProps } from "./workload-props.js";

/** A feature: additions for one workload, created under `scope` (the workload's construct) when it needs resources. */
export type Feature = (scope: Construct, props: WorkloadProps) => WorkloadAdditions;

export const runToCompletion: Feature = (_scope, { spec }) => {
  if (spec.kind !== "task") return {};
  return {
    container: {
      attach: true,
      lifecycle: {
        postcondition: [
          {
            condition: "${self.exit_code == 0}",
            errorMessage: `The ${spec.name} container exited with a non-zero code; see \`docker logs\` of the ${spec.name} container.`,
          },
        ],
      },
    },
  };
};

export const sharedMemory: Feature = (_scope, { spec }) => {
  const shm = spec.shmSizeMiB;
  if (!shm) return {};
  return {
    container: { shmSize: shm },
    swarmMounts: [{ type: "tmpfs", target: "/dev/shm", tmpfsOptions: { sizeBytes: shm * MIB, mode: 0o1777 } }],
  };
};

export const configFiles: Feature = (scope, { spec, context }) => {
  if (spec.configFiles.length === 0) return {};
  if (context.mode === "containers") {
    return { container: { upload: spec.configFiles.map((f) => ({ file: f.mountPath, content: f.content, permissions: "0444" })) } };
  }
  const [uid, gid] = spec.security.user.split(":");
  const configs = spec.configFiles.map((f) => {
    const hash = createHash("sha256").update(f.content).digest("hex").slice(0, 12);
    const config = new Config(scope, f.name, {
      name: `${context.prefix}-${f.name}-${hash}`,
      data: Buffer.from(f.content, "utf8").toString("base64"),
      lifecycle: { createBeforeDestroy: true },
    });
    return { configId: config.id, configName: config.name, fileName: f.mountPath, fileMode: 0o444, ...(uid ? { fileUid: uid } : {}), ...(gid ? { fileGid: gid } : {}) };
  });
  return { swarmContainer: { configs } };
};

export const fixedHostname: Feature = (_scope, { spec }) =>
  spec.hostname ? { container: { hostname: spec.hostname }, swarmContainer: { hostname: spec.hostname } } : {};

/** Every feature, applied to every workload (each decides from the spec whether it applies). */
export const FEATURES: readonly Feature[] = [runToCompletion, sharedMemory, configFiles, fixedHostname];

/**
 * Everything a valid preset implies: runtime flags, server arguments and config bodies for each
 * service, computed by the pure formulas in presets/tuning/. Both targets render these same
 * values, so dev on Docker and prod on Kubernetes carry identical numbers for identical presets.
 */
import type { Preset } from "./schema.js";
import { connectionBudget, presetCrossIssues, PRESET_ALONE, type ConnectionBudget, type PresetContext } from "./cross-checks.js";
import type { TuningIssue } from "./tuning/issues.js";
import { jvmIssues, jvmTuning } from "./tuning/jvm.js";
import { nodeIssues, nodeTuning } from "./tuning/node.js";
import { postgresIssues, postgresTuning } from "./tuning/postgres.js";
import { rabbitmqIssues, rabbitmqTuning } from "./tuning/rabbitmq.js";
import { redisIssues, redisTuning } from "./tuning/redis.js";
import { queueBoundIssues, storageIssues, storageSizing, type StorageSizing } from "./storage-sizing.js";

export type NodeDerived = ReturnType<typeof nodeTuning>;
export type JvmDerived = ReturnType<typeof jvmTuning>;
export type PostgresDerived = ReturnType<typeof postgresTuning>;
export type RedisDerived = ReturnType<typeof redisTuning>;
export type RabbitmqDerived = ReturnType<typeof rabbitmqTuning>;

export interface DerivedSettings {
  readonly api: { readonly node: NodeDerived };
  /** Both worker variants are derived, so `explain` can show the JVM flags a Node environment would get. */
  readonly worker: { readonly node: NodeDerived; readonly jvm: JvmDerived };
  readonly postgres: PostgresDerived;
  readonly redis: RedisDerived;
  readonly rabbitmq: RabbitmqDerived;
  readonly connections: ConnectionBudget;
  /** Postgres storage from the throughput profile and retention; null without a profile. */
  readonly storage: StorageSizing | null;
}

function jvmInput(p: Pick<Preset, "worker">) {
  const { extraFlags: _extra, ...jvm } = p.worker.jvm;
  return { ...jvm, containerMemoryMiB: p.worker.memoryMiB, containerCpus: p.worker.cpu };
}
const apiNode = (p: Pick<Preset, "api">) => ({ containerMemoryMiB: p.api.memoryMiB, heapPercent: p.api.heapPercent, uvThreadpoolSize: p.api.uvThreadpoolSize });
const workerNode = (p: Pick<Preset, "worker">) => ({ containerMemoryMiB: p.worker.memoryMiB, heapPercent: p.worker.heapPercent, uvThreadpoolSize: p.worker.uvThreadpoolSize });
const postgresInput = (p: Pick<Preset, "postgres">) => ({
  memoryMiB: p.postgres.memoryMiB,
  cpus: p.postgres.cpu,
  workload: p.postgres.workload,
  storage: p.postgres.storage,
  storageGiB: p.postgres.storageGiB,
  maxConnections: p.postgres.maxConnections,
});
const redisInput = (p: Pick<Preset, "redis">) => ({
  containerMemoryMiB: p.redis.memoryMiB,
  maxmemoryPercent: p.redis.maxmemoryPercent,
  policy: p.redis.policy,
  samples: p.redis.samples,
});
const rabbitmqInput = (p: Pick<Preset, "rabbitmq">) => ({
  containerMemoryMiB: p.rabbitmq.memoryMiB,
  watermarkPercent: p.rabbitmq.watermarkPercent,
  diskFreeLimitMiB: p.rabbitmq.diskFreeLimitMiB,
  consumerTimeoutMs: p.rabbitmq.consumerTimeoutMs,
  queueType: p.rabbitmq.queueType,
});

/**
 * Every problem with a preset: formula limits and cross-field checks, all at once. Sections that
 * failed their schema may be missing; the checks that need them are skipped, the rest still run.
 */
export function presetIssues(p: Partial<Preset>, ctx: PresetContext = PRESET_ALONE): TuningIssue[] {
  return [
    ...(p.api ? nodeIssues(apiNode({ api: p.api }), "api") : []),
    ...(p.worker ? nodeIssues(workerNode({ worker: p.worker }), "worker") : []),
    ...(p.worker ? jvmIssues(jvmInput({ worker: p.worker })) : []),
    ...(p.postgres ? postgresIssues(postgresInput({ postgres: p.postgres })) : []),
    ...(p.redis ? redisIssues(redisInput({ redis: p.redis })) : []),
    ...(p.rabbitmq ? rabbitmqIssues(rabbitmqInput({ rabbitmq: p.rabbitmq })) : []),
    ...presetCrossIssues(p, ctx),
    // The sizing needs the volume (postgres) and the window (retention); the throughput is optional.
    ...(p.postgres && p.retention ? storageIssues(p as Preset, postgresTuning(postgresInput({ postgres: p.postgres })).settings.max_wal_size!) : []),
    ...(p.rabbitmq ? queueBoundIssues({ rabbitmq: p.rabbitmq }, rabbitmqTuning(rabbitmqInput({ rabbitmq: p.rabbitmq })).watermarkBytes) : []),
  ];
}

/** Derives every setting; call only on a preset with no `presetIssues`. */
export function derive(p: Preset, ctx: PresetContext = PRESET_ALONE): DerivedSettings {
  const jvm = jvmTuning(jvmInput(p));
  const extra = p.worker.jvm.extraFlags;
  const postgres = postgresTuning(postgresInput(p));
  return {
    api: { node: nodeTuning(apiNode(p)) },
    worker: {
      node: nodeTuning(workerNode(p)),
      jvm: extra.length === 0 ? jvm : { ...jvm, flags: [...jvm.flags, ...extra], javaToolOptions: [...jvm.flags, ...extra].join(" ") },
    },
    postgres,
    redis: redisTuning(redisInput(p)),
    rabbitmq: rabbitmqTuning(rabbitmqInput(p)),
    connections: connectionBudget(p, ctx),
    storage: storageSizing(p, postgres.settings.max_wal_size!),
  };
}

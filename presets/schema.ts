/**
 * The shape of a preset: one throughput profile for the whole system.
 *
 * Schemas are strict (a typo is an error, never silently ignored). Defaults live here and only
 * here; the tuning functions and the constructs receive complete, typed values.
 */
import { z } from "zod";
import { GC_NAMES } from "./tuning/jvm.js";
import { REDIS_EVICTION_POLICIES } from "./tuning/redis.js";
import { RETENTION_DEFAULTS, RetentionSchema, ThroughputSchema } from "./retention.js";

const cpu = z.number().positive().max(64).describe("CPU cores (fractions allowed, e.g. 0.5)");
const memoryMiB = z.number().int().min(64).max(1_048_576).describe("container memory limit in MiB");
const replicas = z.number().int().min(1).max(500);
const percent = (min: number, max: number) => z.number().gt(min).lte(max);

export const HealthCheckSchema = z.strictObject({
  intervalSeconds: z.number().int().min(1).max(300),
  timeoutSeconds: z.number().int().min(1).max(120),
  retries: z.number().int().min(1).max(20),
  startPeriodSeconds: z.number().int().min(0).max(600),
});

export const RolloutSchema = z.strictObject({
  maxSurge: z.number().int().min(0).max(100),
  maxUnavailable: z.number().int().min(0).max(100),
});

export const GcSchema = z.enum(GC_NAMES);

export const JvmSchema = z.strictObject({
  gc: GcSchema,
  maxGcPauseMillis: z.number().int().min(1).max(10_000).optional(),
  maxRamPercentage: percent(0, 100),
  initialRamPercentage: percent(0, 100).optional(),
  g1RegionSizeMiB: z.number().int().optional(),
  parallelGcThreads: z.number().int().min(1).max(256).optional(),
  /** Extra flags appended verbatim; checked so they cannot pick a second collector or a fixed heap. */
  extraFlags: z.array(z.string().min(1)).default([]),
});

export const AutoscalingSchema = z.strictObject({
  enabled: z.boolean(),
  minReplicas: replicas,
  maxReplicas: replicas,
  targetCpuPercent: z.number().int().min(10).max(100),
});

export const ApiSchema = z.strictObject({
  replicas,
  cpu,
  memoryMiB,
  heapPercent: percent(0, 100),
  uvThreadpoolSize: z.number().int().min(1).max(1024),
  dbPoolSize: z.number().int().min(1).max(500),
});

export const WorkerSchema = z.strictObject({
  replicas,
  cpu,
  memoryMiB,
  /**
   * Jobs one worker process runs at once. The AMQP consumer prefetch is 4 × this (WORKER_PREFETCH
   * is left unset: the worker claims ahead, services/core/config.ts consumerPrefetch).
   */
  concurrency: z.number().int().min(1).max(1000),
  leaseMs: z.number().int().min(1000).max(3_600_000),
  dbPoolSize: z.number().int().min(1).max(500),
  heapPercent: percent(0, 100),
  uvThreadpoolSize: z.number().int().min(1).max(1024),
  jvm: JvmSchema,
  autoscaling: AutoscalingSchema.optional(),
});

export const PostgresSchema = z.strictObject({
  cpu,
  memoryMiB,
  storageGiB: z.number().int().min(1),
  workload: z.enum(["web", "oltp", "dw", "desktop", "mixed"]),
  storage: z.enum(["ssd", "hdd", "san"]).default("ssd"),
  maxConnections: z.number().int().min(10).max(10_000),
  /** Connections kept free for operators, migrations and monitoring. */
  connectionReserve: z.number().int().min(0).max(1000).default(5),
});

export const RedisPolicySchema = z.enum(REDIS_EVICTION_POLICIES);

export const RedisSchema = z.strictObject({
  cpu,
  memoryMiB,
  maxmemoryPercent: percent(0, 100),
  policy: RedisPolicySchema.default("allkeys-lru"),
  samples: z.number().int().min(1).max(64).default(5),
});

export const RabbitmqSchema = z.strictObject({
  cpu,
  memoryMiB,
  storageGiB: z.number().int().min(1),
  queueType: z.enum(["quorum", "classic"]).default("quorum"),
  watermarkPercent: percent(0, 100),
  diskFreeLimitMiB: z.number().int().min(50),
  consumerTimeoutMs: z.number().int().min(60_000),
  /**
   * Ready messages the job queue holds before the broker refuses publishes (reject-publish);
   * refused jobs wait in Postgres for the sweeper (docs/storage.md). 0 = unbounded. @default 1000000
   */
  maxQueueLength: z.number().int().min(0).default(1_000_000),
  /** Dead letters kept; beyond it the oldest go (drop-head, docs/storage.md). @default 100000 */
  maxDeadLetterLength: z.number().int().min(0).default(100_000),
});

export const PresetSchema = z.strictObject({
  /** One line: the workload this profile is for. */
  description: z.string().min(10),
  /** Why the numbers are what they are. */
  rationale: z.string().min(10),
  healthCheck: HealthCheckSchema,
  rollout: RolloutSchema,
  api: ApiSchema,
  worker: WorkerSchema,
  postgres: PostgresSchema,
  redis: RedisSchema,
  rabbitmq: RabbitmqSchema,
  /** How long final jobs are kept (presets/retention.ts). @default 7d / 30d / 7d, pass every 1m */
  retention: RetentionSchema.default(RETENTION_DEFAULTS),
  /** The sustained rate this profile is sized for; the storage sizing reads it (docs/storage.md). */
  throughput: ThroughputSchema.optional(),
});

export type PresetInput = z.input<typeof PresetSchema>;
export type Preset = z.output<typeof PresetSchema>;
export type RedisPolicy = z.infer<typeof RedisPolicySchema>;
export type { GcName } from "./tuning/jvm.js";

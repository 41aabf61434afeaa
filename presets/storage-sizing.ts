/**
 * Storage sizing of Postgres from a preset's throughput profile and retention (docs/storage.md),
 * and the cross-checks that come with it:
 *   - the volume (postgres.storageGiB) holds the retention window's rows plus headroom for WAL
 *     (max_wal_size) and vacuum;
 *   - prod-like tiers keep every final job at least an hour (checked in stacks/config, which
 *     knows the tier: retentionTierIssues).
 *
 * Bytes per job, measured by `npm run bench -- --only storage` (bench/storage.ts: 50,000 jobs
 * submitted, claimed and completed through the repository, 32 at a time, 3 audit rows each, a
 * 110-byte payload and a 44-byte result, vacuumed; Postgres 15): the jobs row with its indexes
 * 810 bytes, the audit rows with their index 486 bytes, 1,296 bytes a job, on a loaded machine
 * (other runs: 740 + 486 with 20,000 jobs, 711 + 488 on a quieter machine, in
 * bench/results/storage.json; how much free space the jobs table keeps depends on how its
 * updates interleaved). The sizing takes the largest. The jobs row grows with the payload and
 * result, so the sizing counts JOB_ROW_BASE_BYTES plus the profile's payloadBytes.
 *
 *   kept jobs      = rate × ((1 − f) × completed + f × failed)             (f = failedPercent / 100)
 *   kept audit     = rate × (max(completed, cancelled) + 2 × partition span + f × (failed − that))
 *                    audit partitions go whole, one span after the window (services/core/jobs/retention.ts)
 *   data           = (kept jobs × job row + kept audit × AUDIT_BYTES_PER_JOB) × VACUUM_HEADROOM
 *   needed         = data + max_wal_size + FREE_FRACTION × volume
 *   holds N days   = (volume × (1 − FREE_FRACTION) − max_wal_size) / (rate × 86,400 × bytes a job × VACUUM_HEADROOM)
 */
import type { Preset } from "./schema.js";
import { formatSeconds, retentionSeconds } from "./retention.js";
import type { TuningIssue } from "./tuning/issues.js";

/** The jobs row and its indexes without payload and result (810 measured − 154 of them). */
export const JOB_ROW_BASE_BYTES = 656;
/** Three audit rows (submitted, claimed, completed) and their (job_id, seq) index. */
export const AUDIT_BYTES_PER_JOB = 486;
/**
 * Dead rows wait for autovacuum, which runs once 20 % of a table is dead
 * (autovacuum_vacuum_scale_factor 0.2) and returns the space for reuse, not to the disk.
 */
export const VACUUM_HEADROOM = 1.25;
/** Kept free on the volume: checkpoints, temporary files, the audit partition being moved. */
export const FREE_FRACTION = 0.1;

const GIB = 1024 ** 3;

export interface StorageSizing {
  readonly jobsPerSecond: number;
  readonly bytesPerJob: number;
  /** Rows of `jobs` in steady state; null when a retention is forever (grows without bound). */
  readonly jobsKept: number | null;
  readonly auditRowsKept: number | null;
  readonly dataBytes: number | null;
  readonly walBytes: number;
  readonly neededBytes: number | null;
  readonly volumeBytes: number;
  /** Days of submissions the volume holds at jobsPerSecond, ignoring retention. */
  readonly holdsDays: number;
}

/** Parses a Postgres size as PGTune prints it ("4GB", "512MB", "64kB") into bytes. */
export function parsePgSize(text: string): number {
  const m = /^(\d+)(kB|MB|GB|TB)?$/.exec(text);
  if (!m) throw new Error(`not a Postgres size: ${text}`);
  const unit = { kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[m[2] ?? "kB"] ?? 1024;
  return Number(m[1]) * unit;
}

/** The sizing of a preset, or null when it has no throughput profile. `maxWalSize` as derived ("4GB"). */
export function storageSizing(p: Preset, maxWalSize: string): StorageSizing | null {
  if (!p.throughput) return null;
  const r = retentionSeconds(p.retention);
  const rate = p.throughput.jobsPerSecond;
  const f = p.throughput.failedPercent / 100;
  const jobRow = JOB_ROW_BASE_BYTES + p.throughput.payloadBytes;
  const bytesPerJob = jobRow + AUDIT_BYTES_PER_JOB;
  const walBytes = parsePgSize(maxWalSize);
  const volumeBytes = p.postgres.storageGiB * GIB;
  const usable = volumeBytes * (1 - FREE_FRACTION) - walBytes;
  const holdsDays = Math.max(0, usable) / (rate * 86_400 * bytesPerJob * VACUUM_HEADROOM);
  const forever = r.completed === 0 || r.failed === 0 || r.cancelled === 0;
  if (forever) {
    return { jobsPerSecond: rate, bytesPerJob, jobsKept: null, auditRowsKept: null, dataBytes: null, walBytes, neededBytes: null, volumeBytes, holdsDays };
  }
  const bulk = Math.max(r.completed, r.cancelled);
  const jobsKept = rate * ((1 - f) * r.completed + f * r.failed);
  const auditJobs = rate * (bulk + 2 * r.partitionSeconds + f * Math.max(0, r.failed - bulk));
  const dataBytes = (jobsKept * jobRow + auditJobs * AUDIT_BYTES_PER_JOB) * VACUUM_HEADROOM;
  const neededBytes = dataBytes + walBytes + FREE_FRACTION * volumeBytes;
  return {
    jobsPerSecond: rate,
    bytesPerJob,
    jobsKept: Math.round(jobsKept),
    auditRowsKept: Math.round(auditJobs * 3),
    dataBytes,
    walBytes,
    neededBytes,
    volumeBytes,
    holdsDays,
  };
}

const gib = (b: number) => (b / GIB).toFixed(1);

/** "holds about N days at M jobs/s", for `jobstack explain`. */
export function describeSizing(s: StorageSizing): string {
  const days = s.holdsDays >= 10 ? Math.round(s.holdsDays).toString() : s.holdsDays.toFixed(1);
  const base = `holds about ${days} days at ${s.jobsPerSecond} jobs/s`;
  if (s.neededBytes === null) return `${base}; a retention is forever, so it fills up`;
  return `${base}; the retention window needs ${gib(s.neededBytes)} of ${gib(s.volumeBytes)} GiB`;
}

/** The volume must hold the retention window with headroom; `maxWalSize` as derived. */
export function storageIssues(p: Preset, maxWalSize: string): TuningIssue[] {
  const issues: TuningIssue[] = [];
  const r = retentionSeconds(p.retention);
  if (r.intervalSeconds === 0) {
    issues.push({ path: "retention.interval", message: "retention.interval (forever) must be a duration: how often the retention pass runs, e.g. 1m" });
  }
  if (r.partitionSeconds === 0) {
    issues.push({ path: "retention.partition", message: "retention.partition (forever) must be a duration: the span of one audit partition, e.g. 1d" });
  }
  const s = storageSizing(p, maxWalSize);
  if (!s || s.neededBytes === null || s.dataBytes === null) return issues;
  if (s.neededBytes > s.volumeBytes) {
    const ret = p.retention;
    issues.push({
      path: "postgres.storageGiB",
      related: ["retention.completed", "retention.failed", "retention.cancelled", "throughput.jobsPerSecond"],
      message:
        `postgres.storageGiB (${p.postgres.storageGiB}) cannot hold retention (completed ${ret.completed}, failed ${ret.failed}, ` +
        `cancelled ${ret.cancelled}) at throughput.jobsPerSecond (${s.jobsPerSecond}): ${s.jobsKept} jobs × ${s.bytesPerJob} bytes ` +
        `need ${gib(s.dataBytes)} GiB with vacuum headroom, plus max_wal_size ${gib(s.walBytes)} GiB and ${FREE_FRACTION * 100}% free = ` +
        `${gib(s.neededBytes)} GiB; raise postgres.storageGiB or shorten retention (the volume holds about ${s.holdsDays.toFixed(1)} days)`,
    });
  }
  return issues;
}

/** Below this, a prod-like tier refuses a retention: a unit typo (7 for 7d) would delete jobs minutes after they finish. */
export const PROD_MIN_RETENTION_SECONDS = 3600;

/** Retention in a prod-like tier: at least an hour for every final state (forever is fine). */
export function retentionTierIssues(p: Preset, tier: string): TuningIssue[] {
  const r = retentionSeconds(p.retention);
  const issues: TuningIssue[] = [];
  for (const key of ["completed", "failed", "cancelled"] as const) {
    const s = r[key];
    if (s !== 0 && s < PROD_MIN_RETENTION_SECONDS) {
      issues.push({
        path: `retention.${key}`,
        message: `retention.${key} (${p.retention[key]}) is under 1h, which tier (${tier}) refuses as prod-like: finished jobs would vanish ${formatSeconds(s)} after they end; use at least 1h`,
      });
    }
  }
  return issues;
}

/**
 * Broker memory per ready message of a job queue (a 49-byte `{"id": …}` body, persistent),
 * measured on RabbitMQ 3.10 with 100,000 messages (`rabbitmqctl list_queues memory`): a quorum
 * queue 76 bytes (bodies live on disk, the index in memory), a classic queue 1,165 bytes (v1
 * keeps bodies in memory until memory pressure pages them out).
 */
export const BROKER_BYTES_PER_MESSAGE = { quorum: 80, classic: 1200 } as const;
/** Share of the memory watermark the bounded queues may fill; connections, channels and Erlang take the rest. */
export const QUEUE_WATERMARK_SHARE = 0.5;

/**
 * A full job queue plus a full dead-letter queue must stay below the broker's memory watermark:
 * above it, RabbitMQ blocks every publisher (the api included) instead of refusing the publish,
 * and each POST /jobs then waits out its publish timeout. `watermarkBytes` as derived.
 */
export function queueBoundIssues(p: Pick<Preset, "rabbitmq">, watermarkBytes: number): TuningIssue[] {
  const r = p.rabbitmq;
  const perMessage = BROKER_BYTES_PER_MESSAGE[r.queueType];
  const budget = watermarkBytes * QUEUE_WATERMARK_SHARE;
  const queueBytes = (i: number) => (i === 0 ? Number.POSITIVE_INFINITY : i * perMessage);
  const needed = queueBytes(r.maxQueueLength) + queueBytes(r.maxDeadLetterLength);
  if (needed <= budget) return [];
  const mib = (b: number) => (b / 1048576).toFixed(0);
  const which = r.maxQueueLength === 0 || r.maxDeadLetterLength === 0 ? "an unbounded queue (0) can fill it" : `full queues take about ${mib(needed)} MiB`;
  return [
    {
      path: "rabbitmq.maxQueueLength",
      related: ["rabbitmq.maxDeadLetterLength", "rabbitmq.memoryMiB", "rabbitmq.watermarkPercent", "rabbitmq.queueType"],
      message:
        `rabbitmq.maxQueueLength (${r.maxQueueLength}) and rabbitmq.maxDeadLetterLength (${r.maxDeadLetterLength}) must fit in half of the ` +
        `memory watermark (rabbitmq.memoryMiB ${r.memoryMiB} × watermarkPercent ${r.watermarkPercent}% / 2 = ${mib(budget)} MiB) at ` +
        `${perMessage} bytes a ${r.queueType} message, but ${which}; above the watermark the broker blocks every publisher. Lower the bounds or raise rabbitmq.memoryMiB`,
    },
  ];
}

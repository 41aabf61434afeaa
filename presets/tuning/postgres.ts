/**
 * PostgreSQL settings from PGTune's formulas, passed to `postgres` as `-c key=value` arguments.
 *
 * Source: le0pard/pgtune at commit 421728c2f26fae14285f9805d31198b98925d697,
 * src/features/configuration/configurationSlice.js (the formulas) and
 * src/common/components/configurationView/index.jsx (the `formatValue` unit printing and the
 * order of the output). Reproduced for OS "linux" (containers), with the container's memory as
 * "total memory" and its CPU count (rounded down) as "CPUs". Everything is computed in kB, as
 * PGTune does:
 *
 *   RAM                 = memoryMiB × 1024 kB
 *   shared_buffers      = floor(RAM / 4)             (desktop: RAM / 16)
 *   effective_cache_size= floor(RAM × 3 / 4)         (desktop: RAM / 4)
 *   maintenance_work_mem= floor(RAM / 16)            (dw: RAM / 8), capped at 8 GB
 *   checkpoint_completion_target = 0.9
 *   wal_buffers         = floor(3 % of shared_buffers), capped at 16 MB; 14–16 MB rounds up to
 *                         16 MB; at least 32 kB
 *   default_statistics_target = 100                  (dw: 500)
 *   random_page_cost    = 1.1 for ssd/san, 4 for hdd
 *   effective_io_concurrency = 200 ssd, 300 san, 2 hdd
 *   parallel settings   (only with ≥ 4 CPUs; otherwise Postgres's defaults 8/2/8/2 stay):
 *     max_worker_processes = CPUs, max_parallel_workers = CPUs (PG ≥ 10),
 *     max_parallel_workers_per_gather = ceil(CPUs / 2), at most 4 unless dw,
 *     max_parallel_maintenance_workers = ceil(CPUs / 2), at most 4 (PG ≥ 11)
 *   work_mem            = (RAM − shared_buffers) / ((max_connections + max_worker_processes) × 3),
 *                         where max_worker_processes is CPUs with ≥ 4 CPUs, else 8; then
 *                         floor(x) for web/oltp, floor(x / 2) dw/mixed, floor(x / 6) desktop;
 *                         at least 4 MB (so simple sorts do not spill to disk)
 *   huge_pages          = "try" once shared_buffers reaches 2 GB, else "off"
 *   jit                 = "off" for web, oltp and mixed on PG ≥ 12 (JIT costs short queries
 *                         planning time and CPU); left at Postgres's default for dw and desktop
 *   wal_compression     = "lz4" on PG ≥ 15 (the official images are built --with-lz4), "on" before
 *   autovacuum_max_workers = 4 from 16 CPUs, 5 from 32 (else Postgres's default 3)
 *   autovacuum_work_mem = 2 GB when maintenance_work_mem reaches 2 GB (each autovacuum worker
 *                         would otherwise take up to the 8 GB maintenance_work_mem)
 *   io_method = io_uring, io_workers = min(32, floor(CPUs / 4)) when above 3 (PG ≥ 18 only)
 *   min_wal_size / max_wal_size = 1/4 GB web, mixed; 2/8 GB oltp; 4/16 GB dw; 100 MB/2 GB desktop
 *   desktop only: wal_level = minimal, max_wal_senders = 0
 *
 * Not PGTune, ours: the WAL lives on the data volume (pg_wal under PGDATA), and PGTune sizes it
 * for a server whose disk is not the limit. On a 2 GiB volume its 4 GB max_wal_size lets one
 * write burst fill the disk, and Postgres stops (PANIC: could not write to file "pg_wal/…": No
 * space left on device). So, with the volume size known (`storageGiB`):
 *
 *   max_wal_size = min(PGTune's, WAL_VOLUME_SHARE (25 %) of the volume), in whole MB
 *   min_wal_size = min(PGTune's, max_wal_size / 4), in whole MB
 *
 * max_wal_size is a soft limit (a burst or a slow checkpoint can exceed it), which is why the
 * share leaves three quarters of the volume to the data and to that overshoot.
 *
 * Sizes print as PGTune prints them: in GB if a whole number of GB, else MB if a whole number of
 * MB, else kB — the units Postgres itself accepts ("kB", "MB", "GB").
 *
 * PGTune's later optional "database size vs RAM" input is not modelled (its default, "about the
 * size of RAM", changes nothing here except random_page_cost 4 for dw on ssd/san).
 */
import type { TuningIssue } from "./issues.js";

export type PostgresWorkload = "web" | "oltp" | "dw" | "desktop" | "mixed";
export type PostgresStorage = "ssd" | "hdd" | "san";

export interface PostgresInput {
  readonly memoryMiB: number;
  /** Container CPUs; fractions are rounded down for PGTune's CPU count. */
  readonly cpus: number;
  readonly workload: PostgresWorkload;
  readonly storage: PostgresStorage;
  readonly maxConnections: number;
  /** @default 16 */
  readonly majorVersion?: number;
  /** Size of the data volume the WAL shares; caps the WAL sizes. @default no cap (PGTune's sizes) */
  readonly storageGiB?: number;
}

export interface PostgresTuning {
  /** Setting name → value as PGTune prints it, in PGTune's output order. */
  readonly settings: Record<string, string>;
  /** ["-c", "max_connections=100", "-c", "shared_buffers=1GB", ...] */
  readonly args: string[];
  /** For Docker's `shm_size`; see `shmSizeMiB()`. */
  readonly shmSizeMiB: number;
}

export const DEFAULT_POSTGRES_MAJOR = 16;
/** The share of the data volume max_wal_size may take; see the header. */
export const WAL_VOLUME_SHARE = 0.25;
/**
 * The least max_wal_size worth running with: Postgres checkpoints every max_wal_size of WAL, and
 * below half of its own 1 GB default, checkpoints come often enough to cost write throughput.
 */
export const MIN_MAX_WAL_SIZE_MB = 512;
/** PGTune's lower bound for a useful result ("this tool not being optimal for low memory systems"). */
export const POSTGRES_MIN_MEMORY_MIB = 256;
/** Postgres's own defaults for the parallel settings PGTune leaves out below 4 CPUs. */
const PG_DEFAULT_MAX_WORKER_PROCESSES = 8;
const PG_DEFAULT_MAX_PARALLEL_WORKERS = 8;

const KB_PER_MB = 1024;
const KB_PER_GB = 1024 * 1024;

/** PGTune's `formatValue`: the largest unit that loses no precision. */
export function formatKb(kb: number): string {
  if (kb % KB_PER_GB === 0) return `${Math.floor(kb / KB_PER_GB)}GB`;
  if (kb % KB_PER_MB === 0) return `${Math.floor(kb / KB_PER_MB)}MB`;
  return `${kb}kB`;
}

export function postgresIssues(i: PostgresInput): TuningIssue[] {
  const issues: TuningIssue[] = [];
  if (!(Number.isInteger(i.memoryMiB) && i.memoryMiB >= POSTGRES_MIN_MEMORY_MIB)) {
    issues.push({
      path: "postgres.memoryMiB",
      message: `postgres.memoryMiB (${i.memoryMiB}) must be a whole number of MiB, at least ${POSTGRES_MIN_MEMORY_MIB}: PGTune's formulas are not meant for less`,
    });
  }
  if (!(i.cpus > 0)) {
    issues.push({ path: "postgres.cpu", message: `postgres.cpu (${i.cpus}) must be a positive number of CPUs` });
  }
  if (!(Number.isInteger(i.maxConnections) && i.maxConnections >= 1 && i.maxConnections <= 262_143)) {
    issues.push({
      path: "postgres.maxConnections",
      message: `postgres.maxConnections (${i.maxConnections}) must be a whole number from 1 to 262143 (Postgres's limit)`,
    });
  }
  const major = i.majorVersion ?? DEFAULT_POSTGRES_MAJOR;
  if (!(Number.isInteger(major) && major >= 10)) {
    issues.push({ path: "postgres.majorVersion", message: `postgres.majorVersion (${major}) must be 10 or later` });
  }
  if (!["web", "oltp", "dw", "desktop", "mixed"].includes(i.workload)) {
    issues.push({ path: "postgres.workload", message: `postgres.workload ("${String(i.workload)}") must be one of web, oltp, dw, desktop, mixed` });
  }
  if (i.storageGiB !== undefined && walBudgetMb(i.storageGiB) < MIN_MAX_WAL_SIZE_MB) {
    const needGiB = Math.ceil(MIN_MAX_WAL_SIZE_MB / 1024 / WAL_VOLUME_SHARE);
    issues.push({
      path: "postgres.storageGiB",
      related: ["postgres.workload"],
      message:
        `postgres.storageGiB (${i.storageGiB}) leaves ${walBudgetMb(i.storageGiB)} MB for the WAL (${WAL_VOLUME_SHARE * 100} % of the volume it shares ` +
        `with the data), below the ${MIN_MAX_WAL_SIZE_MB} MB max_wal_size worth running with (PGTune asks ${formatKb((PGTUNE_WAL_MB[i.workload]?.[1] ?? 0) * KB_PER_MB)} for postgres.workload ${i.workload}); raise postgres.storageGiB to at least ${needGiB}`,
    });
  }
  if (!["ssd", "hdd", "san"].includes(i.storage)) {
    issues.push({ path: "postgres.storage", message: `postgres.storage ("${String(i.storage)}") must be one of ssd, hdd, san` });
  }
  return issues;
}

interface Parallel {
  readonly max_worker_processes: number;
  readonly max_parallel_workers_per_gather: number;
  readonly max_parallel_workers?: number;
  readonly max_parallel_maintenance_workers?: number;
}

function parallelSettings(cpus: number, workload: PostgresWorkload, major: number): Parallel | undefined {
  if (cpus < 4) return undefined;
  let perGather = Math.ceil(cpus / 2);
  if (workload !== "dw" && perGather > 4) perGather = 4;
  return {
    max_worker_processes: cpus,
    max_parallel_workers_per_gather: perGather,
    ...(major >= 10 ? { max_parallel_workers: cpus } : {}),
    ...(major >= 11 ? { max_parallel_maintenance_workers: Math.min(Math.ceil(cpus / 2), 4) } : {}),
  };
}

/** Call only on an input with no `postgresIssues`. */
export function postgresTuning(i: PostgresInput): PostgresTuning {
  const major = i.majorVersion ?? DEFAULT_POSTGRES_MAJOR;
  const cpus = Math.floor(i.cpus);
  const ramKb = i.memoryMiB * KB_PER_MB;
  const w = i.workload;

  const sharedBuffers = w === "desktop" ? Math.floor(ramKb / 16) : Math.floor(ramKb / 4);
  const effectiveCacheSize = w === "desktop" ? Math.floor(ramKb / 4) : Math.floor((ramKb * 3) / 4);
  let maintenanceWorkMem = w === "dw" ? Math.floor(ramKb / 8) : Math.floor(ramKb / 16);
  if (maintenanceWorkMem >= 8 * KB_PER_GB) maintenanceWorkMem = 8 * KB_PER_GB;

  let walBuffers = Math.floor((3 * sharedBuffers) / 100);
  if (walBuffers > 16 * KB_PER_MB) walBuffers = 16 * KB_PER_MB;
  if (walBuffers > 14 * KB_PER_MB && walBuffers < 16 * KB_PER_MB) walBuffers = 16 * KB_PER_MB;
  if (walBuffers < 32) walBuffers = 32;

  const parallel = parallelSettings(cpus, w, major);
  const workersForWorkMem = parallel?.max_worker_processes ?? PG_DEFAULT_MAX_WORKER_PROCESSES;
  const workMemBase = (ramKb - sharedBuffers) / ((i.maxConnections + workersForWorkMem) * 3);
  let workMem = {
    web: Math.floor(workMemBase),
    oltp: Math.floor(workMemBase),
    dw: Math.floor(workMemBase / 2),
    desktop: Math.floor(workMemBase / 6),
    mixed: Math.floor(workMemBase / 2),
  }[w];
  if (workMem < 4 * KB_PER_MB) workMem = 4 * KB_PER_MB;

  const wal = walSizesMb(w, i.storageGiB);

  const settings: Record<string, string> = {
    max_connections: String(i.maxConnections),
    shared_buffers: formatKb(sharedBuffers),
    effective_cache_size: formatKb(effectiveCacheSize),
    maintenance_work_mem: formatKb(maintenanceWorkMem),
    checkpoint_completion_target: "0.9",
    wal_buffers: formatKb(walBuffers),
    default_statistics_target: w === "dw" ? "500" : "100",
    random_page_cost: i.storage === "hdd" ? "4" : "1.1",
    effective_io_concurrency: String({ ssd: 200, san: 300, hdd: 2 }[i.storage]),
    work_mem: formatKb(workMem),
    huge_pages: sharedBuffers >= 2 * KB_PER_GB ? "try" : "off",
  };
  if (major >= 12 && (w === "web" || w === "oltp" || w === "mixed")) settings.jit = "off";
  settings.wal_compression = major >= 15 ? "lz4" : "on";
  if (cpus >= 32) settings.autovacuum_max_workers = "5";
  else if (cpus >= 16) settings.autovacuum_max_workers = "4";
  if (maintenanceWorkMem >= 2 * KB_PER_GB) settings.autovacuum_work_mem = formatKb(2 * KB_PER_GB);
  if (major >= 18) {
    settings.io_method = "io_uring";
    const ioWorkers = Math.min(32, Math.max(3, Math.floor(cpus / 4)));
    if (ioWorkers > 3) settings.io_workers = String(ioWorkers);
  }
  settings.min_wal_size = formatKb(wal[0] * KB_PER_MB);
  settings.max_wal_size = formatKb(wal[1] * KB_PER_MB);
  if (parallel) {
    for (const [k, v] of Object.entries(parallel)) settings[k] = String(v);
  }
  if (w === "desktop") {
    settings.wal_level = "minimal";
    settings.max_wal_senders = "0";
  }

  const args = Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const maxParallelWorkers = parallel?.max_parallel_workers ?? PG_DEFAULT_MAX_PARALLEL_WORKERS;
  return { settings, args, shmSizeMiB: shmSizeMiB(workMem, maxParallelWorkers, i.memoryMiB) };
}

/** PGTune's [min_wal_size, max_wal_size] in MB per workload. */
const PGTUNE_WAL_MB: Record<PostgresWorkload, readonly [number, number]> = {
  web: [1024, 4096],
  oltp: [2048, 8192],
  dw: [4096, 16384],
  desktop: [100, 2048],
  mixed: [1024, 4096],
};

/** WAL_VOLUME_SHARE of the volume, in whole MB. */
function walBudgetMb(storageGiB: number): number {
  return Math.floor(storageGiB * 1024 * WAL_VOLUME_SHARE);
}

/** [min_wal_size, max_wal_size] in MB: PGTune's, capped by the volume (see the header). */
export function walSizesMb(workload: PostgresWorkload, storageGiB?: number): [number, number] {
  const [pgMin, pgMax] = PGTUNE_WAL_MB[workload];
  if (storageGiB === undefined) return [pgMin, pgMax];
  const max = Math.min(pgMax, walBudgetMb(storageGiB));
  return [Math.min(pgMin, Math.floor(max / 4)), max];
}

/**
 * Docker's `shm_size` for the Postgres container (Kubernetes: a memory-backed emptyDir on
 * /dev/shm of the same size).
 *
 * shared_buffers does not live in /dev/shm (Postgres ≥ 9.3 maps it anonymously); what does is
 * dynamic shared memory (`dynamic_shared_memory_type = posix`): the segments parallel queries use
 * to share hash tables and sort state among the leader and its workers. A parallel hash join may
 * put up to work_mem × hash_mem_multiplier (2.0 since PG 15) per participant there. Docker's
 * default of 64 MB makes such queries fail with "could not resize shared memory segment ... No
 * space left on device". So:
 *
 *   shmSizeMiB = 64 + ceil(work_mem / 1 MiB) × 2 × (max_parallel_workers + 1), rounded up to a
 *                multiple of 64, at most half the container's memory (tmpfs pages count against
 *                the container's memory limit).
 */
export function shmSizeMiB(workMemKb: number, maxParallelWorkers: number, memoryMiB: number): number {
  const need = 64 + Math.ceil(workMemKb / KB_PER_MB) * 2 * (maxParallelWorkers + 1);
  const rounded = Math.ceil(need / 64) * 64;
  return Math.max(64, Math.min(rounded, Math.floor(memoryMiB / 2)));
}

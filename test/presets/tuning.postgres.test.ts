import { describe, expect, it } from "vitest";
import { formatKb, postgresIssues, postgresTuning, shmSizeMiB, type PostgresInput } from "../../presets/tuning/postgres.js";

// Fixtures: PGTune's output (le0pard/pgtune @ 421728c2, OS linux, DB version 16 unless given)
// for the same RAM / CPUs / connections / workload / storage, as its configuration view prints
// it, in its order. Worked example for the first: RAM = 4 GB = 4194304 kB; shared_buffers =
// 4194304 / 4 = 1048576 kB = 1GB; work_mem = (4194304 − 1048576) / ((100 + 8) × 3) = 9709.04 →
// 9709kB (2 CPUs < 4, so PGTune counts Postgres's default 8 worker processes; above the 4 MB
// floor); huge_pages off (shared_buffers below 2 GB); jit off (web, PG ≥ 12); wal_compression lz4
// (PG ≥ 15). Differences from the previous pin (7d204bdb) are called out per fixture.
const fixtures: { name: string; input: PostgresInput; expected: Record<string, string> }[] = [
  {
    name: "4 GB, 2 CPUs, web, ssd, 100 connections",
    input: { memoryMiB: 4096, cpus: 2, workload: "web", storage: "ssd", maxConnections: 100 },
    expected: {
      max_connections: "100", shared_buffers: "1GB", effective_cache_size: "3GB", maintenance_work_mem: "256MB",
      checkpoint_completion_target: "0.9", wal_buffers: "16MB", default_statistics_target: "100", random_page_cost: "1.1",
      effective_io_concurrency: "200", work_mem: "9709kB", huge_pages: "off", jit: "off", wal_compression: "lz4",
      min_wal_size: "1GB", max_wal_size: "4GB",
    },
  },
  {
    // shared_buffers 4 GB ≥ 2 GB: huge_pages try (was off below 32 GB of RAM).
    name: "16 GB, 8 CPUs, oltp, ssd, 200 connections",
    input: { memoryMiB: 16384, cpus: 8, workload: "oltp", storage: "ssd", maxConnections: 200 },
    expected: {
      max_connections: "200", shared_buffers: "4GB", effective_cache_size: "12GB", maintenance_work_mem: "1GB",
      checkpoint_completion_target: "0.9", wal_buffers: "16MB", default_statistics_target: "100", random_page_cost: "1.1",
      effective_io_concurrency: "200", work_mem: "20164kB", huge_pages: "try", jit: "off", wal_compression: "lz4",
      min_wal_size: "2GB", max_wal_size: "8GB",
      max_worker_processes: "8", max_parallel_workers_per_gather: "4", max_parallel_workers: "8", max_parallel_maintenance_workers: "4",
    },
  },
  {
    // maintenance_work_mem = 64 GB / 8 = 8 GB, at the new 8 GB cap (was capped at 2 GB); so
    // autovacuum_work_mem 2 GB; 32 CPUs: autovacuum_max_workers 5; dw keeps jit at the default.
    name: "64 GB, 32 CPUs, dw, san, 40 connections (maintenance_work_mem at the 8GB cap, autovacuum settings)",
    input: { memoryMiB: 65536, cpus: 32, workload: "dw", storage: "san", maxConnections: 40 },
    expected: {
      max_connections: "40", shared_buffers: "16GB", effective_cache_size: "48GB", maintenance_work_mem: "8GB",
      checkpoint_completion_target: "0.9", wal_buffers: "16MB", default_statistics_target: "500", random_page_cost: "1.1",
      effective_io_concurrency: "300", work_mem: "116508kB", huge_pages: "try", wal_compression: "lz4",
      autovacuum_max_workers: "5", autovacuum_work_mem: "2GB", min_wal_size: "4GB", max_wal_size: "16GB",
      max_worker_processes: "32", max_parallel_workers_per_gather: "16", max_parallel_workers: "32", max_parallel_maintenance_workers: "4",
    },
  },
  {
    // (2097152 − 524288) / ((100 + 4) × 3) / 2 = 2520 kB, below the 4 MB floor (was floored at 64 kB).
    name: "2 GB, 4 CPUs, mixed, hdd, 100 connections",
    input: { memoryMiB: 2048, cpus: 4, workload: "mixed", storage: "hdd", maxConnections: 100 },
    expected: {
      max_connections: "100", shared_buffers: "512MB", effective_cache_size: "1536MB", maintenance_work_mem: "128MB",
      checkpoint_completion_target: "0.9", wal_buffers: "16MB", default_statistics_target: "100", random_page_cost: "4",
      effective_io_concurrency: "2", work_mem: "4MB", huge_pages: "off", jit: "off", wal_compression: "lz4",
      min_wal_size: "1GB", max_wal_size: "4GB",
      max_worker_processes: "4", max_parallel_workers_per_gather: "2", max_parallel_workers: "4", max_parallel_maintenance_workers: "2",
    },
  },
  {
    name: "1 GB, 1 CPU, desktop, ssd, 20 connections (wal_buffers in kB, wal_level minimal)",
    input: { memoryMiB: 1024, cpus: 1, workload: "desktop", storage: "ssd", maxConnections: 20 },
    expected: {
      max_connections: "20", shared_buffers: "64MB", effective_cache_size: "256MB", maintenance_work_mem: "64MB",
      checkpoint_completion_target: "0.9", wal_buffers: "1966kB", default_statistics_target: "100", random_page_cost: "1.1",
      effective_io_concurrency: "200", work_mem: "4MB", huge_pages: "off", wal_compression: "lz4",
      min_wal_size: "100MB", max_wal_size: "2GB",
      wal_level: "minimal", max_wal_senders: "0",
    },
  },
  {
    name: "512 MB, 1 CPU, web, ssd, 50 connections",
    input: { memoryMiB: 512, cpus: 1, workload: "web", storage: "ssd", maxConnections: 50 },
    expected: {
      max_connections: "50", shared_buffers: "128MB", effective_cache_size: "384MB", maintenance_work_mem: "32MB",
      checkpoint_completion_target: "0.9", wal_buffers: "3932kB", default_statistics_target: "100", random_page_cost: "1.1",
      effective_io_concurrency: "200", work_mem: "4MB", huge_pages: "off", jit: "off", wal_compression: "lz4",
      min_wal_size: "1GB", max_wal_size: "4GB",
    },
  },
  {
    // PG 10: no jit setting (before 12), wal_compression on (pglz; lz4 needs 15); shared_buffers 2 GB: huge_pages try.
    name: "8 GB, 12 CPUs, oltp, ssd, 300 connections, PostgreSQL 10 (no max_parallel_maintenance_workers)",
    input: { memoryMiB: 8192, cpus: 12, workload: "oltp", storage: "ssd", maxConnections: 300, majorVersion: 10 },
    expected: {
      max_connections: "300", shared_buffers: "2GB", effective_cache_size: "6GB", maintenance_work_mem: "512MB",
      checkpoint_completion_target: "0.9", wal_buffers: "16MB", default_statistics_target: "100", random_page_cost: "1.1",
      effective_io_concurrency: "200", work_mem: "6721kB", huge_pages: "try", wal_compression: "on",
      min_wal_size: "2GB", max_wal_size: "8GB",
      max_worker_processes: "12", max_parallel_workers_per_gather: "4", max_parallel_workers: "12",
    },
  },
];

describe("postgresTuning matches PGTune", () => {
  for (const f of fixtures) {
    it(f.name, () => {
      const t = postgresTuning(f.input);
      expect(t.settings).toEqual(f.expected);
      // PGTune's output order is kept, so `explain` reads like pgtune.leopard.in.ua.
      expect(Object.keys(t.settings)).toEqual(Object.keys(f.expected));
      expect(postgresIssues(f.input)).toEqual([]);
    });
  }

  it("renders -c arguments in the same order", () => {
    const t = postgresTuning(fixtures[0]!.input);
    expect(t.args.slice(0, 6)).toEqual(["-c", "max_connections=100", "-c", "shared_buffers=1GB", "-c", "effective_cache_size=3GB"]);
    expect(t.args).toHaveLength(2 * Object.keys(t.settings).length);
  });

  it("rounds fractional container CPUs down (3.5 CPUs → no parallel settings, 4.5 → 4)", () => {
    const base = { memoryMiB: 4096, workload: "web", storage: "ssd", maxConnections: 100 } as const;
    expect(postgresTuning({ ...base, cpus: 3.5 }).settings.max_worker_processes).toBeUndefined();
    expect(postgresTuning({ ...base, cpus: 4.5 }).settings.max_worker_processes).toBe("4");
  });

  it("defaults to PostgreSQL 16 (max_parallel_maintenance_workers present)", () => {
    const t = postgresTuning({ memoryMiB: 4096, cpus: 4, workload: "web", storage: "ssd", maxConnections: 100 });
    expect(t.settings.max_parallel_maintenance_workers).toBe("2");
  });

  it("floors work_mem at 4MB", () => {
    const t = postgresTuning({ memoryMiB: 256, cpus: 1, workload: "desktop", storage: "ssd", maxConnections: 5000 });
    expect(t.settings.work_mem).toBe("4MB");
  });

  it("rounds wal_buffers between 14 and 16 MB up to 16MB", () => {
    // shared_buffers 480 MB → 3 % = 14745 kB (> 14 MB = 14336 kB) → 16MB
    const t = postgresTuning({ memoryMiB: 1920, cpus: 1, workload: "web", storage: "ssd", maxConnections: 100 });
    expect(t.settings.shared_buffers).toBe("480MB");
    expect(t.settings.wal_buffers).toBe("16MB");
  });
});

// Upstream's own unit tests (src/features/configuration/__tests__/configurationSlice.test.js at
// le0pard/pgtune 01bb6447, the revision before 421728c2 that introduced these cases), for OS linux.
describe("PGTune's own test cases", () => {
  const gb = (n: number) => n * 1024;
  it("caps maintenance_work_mem at 8GB (256 GB, web, PG 17) and computes it below the cap (16 GB → 1GB)", () => {
    expect(postgresTuning({ memoryMiB: gb(256), cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion: 17 }).settings.maintenance_work_mem).toBe("8GB");
    expect(postgresTuning({ memoryMiB: gb(16), cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion: 15 }).settings.maintenance_work_mem).toBe("1GB");
  });
  it("huge_pages off below 2GB of shared_buffers (4 GB RAM), try from there (16 GB)", () => {
    expect(postgresTuning({ memoryMiB: gb(4), cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion: 15 }).settings.huge_pages).toBe("off");
    expect(postgresTuning({ memoryMiB: gb(16), cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion: 15 }).settings.huge_pages).toBe("try");
  });
  it("floors work_mem at 4MB with 9999 connections on 4 GB and 4 CPUs", () => {
    expect(postgresTuning({ memoryMiB: gb(4), cpus: 4, workload: "web", storage: "ssd", maxConnections: 9999, majorVersion: 15 }).settings.work_mem).toBe("4MB");
  });
  it("turns jit off for web/oltp on PG 12+, leaves it for dw and for PG 11", () => {
    const jit = (workload: PostgresInput["workload"], majorVersion: number) =>
      postgresTuning({ memoryMiB: gb(4), cpus: 1, workload, storage: "ssd", maxConnections: 100, majorVersion }).settings.jit;
    expect(jit("web", 12)).toBe("off");
    expect(jit("oltp", 15)).toBe("off");
    expect(jit("dw", 15)).toBeUndefined();
    expect(jit("web", 11)).toBeUndefined();
  });
  it("wal_compression on for PG 10–14, lz4 from 15", () => {
    const wc = (majorVersion: number) => postgresTuning({ memoryMiB: gb(4), cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion }).settings.wal_compression;
    expect([wc(10), wc(14), wc(15), wc(17)]).toEqual(["on", "on", "lz4", "lz4"]);
  });
  it("autovacuum_max_workers 5 from 32 CPUs, 4 from 16, default below", () => {
    const avw = (cpus: number) => postgresTuning({ memoryMiB: gb(4), cpus, workload: "web", storage: "ssd", maxConnections: 100 }).settings.autovacuum_max_workers;
    expect([avw(32), avw(16), avw(8)]).toEqual(["5", "4", undefined]);
  });
  it("autovacuum_work_mem only once maintenance_work_mem reaches 2GB (4 GB: none; 256 GB: 2GB)", () => {
    const avm = (memoryMiB: number) => postgresTuning({ memoryMiB, cpus: 1, workload: "web", storage: "ssd", maxConnections: 100, majorVersion: 15 }).settings.autovacuum_work_mem;
    expect(avm(gb(4))).toBeUndefined();
    expect(avm(gb(256))).toBe("2GB");
  });
});

describe("formatKb (PGTune's formatValue)", () => {
  it("uses the largest unit without loss", () => {
    expect(formatKb(1048576)).toBe("1GB");
    expect(formatKb(1572864)).toBe("1536MB");
    expect(formatKb(9709)).toBe("9709kB");
    expect(formatKb(32)).toBe("32kB");
  });
});

describe("shmSizeMiB", () => {
  it("covers parallel hash joins: 64 + ceil(work_mem MiB) × 2 × (workers + 1), to a multiple of 64", () => {
    // 9709 kB → 10 MiB; 64 + 10 × 2 × 9 = 244 → 256
    expect(shmSizeMiB(9709, 8, 4096)).toBe(256);
    expect(postgresTuning(fixtures[0]!.input).shmSizeMiB).toBe(256);
  });
  it("is capped at half the container's memory, and never below Docker's 64", () => {
    expect(shmSizeMiB(116508, 32, 1024)).toBe(512);
    expect(shmSizeMiB(64, 0, 256)).toBe(128);
    expect(shmSizeMiB(64, 0, 100)).toBe(64);
  });
});

describe("postgresIssues", () => {
  const ok: PostgresInput = { memoryMiB: 4096, cpus: 2, workload: "web", storage: "ssd", maxConnections: 100 };
  it("accepts a valid input", () => expect(postgresIssues(ok)).toEqual([]));
  it("rejects too little memory", () => {
    expect(postgresIssues({ ...ok, memoryMiB: 128 })).toEqual([
      { path: "postgres.memoryMiB", message: "postgres.memoryMiB (128) must be a whole number of MiB, at least 256: PGTune's formulas are not meant for less" },
    ]);
  });
  it("rejects non-positive CPUs", () => {
    expect(postgresIssues({ ...ok, cpus: 0 })).toEqual([{ path: "postgres.cpu", message: "postgres.cpu (0) must be a positive number of CPUs" }]);
  });
  it("rejects max_connections outside Postgres's range", () => {
    expect(postgresIssues({ ...ok, maxConnections: 0 })).toEqual([
      { path: "postgres.maxConnections", message: "postgres.maxConnections (0) must be a whole number from 1 to 262143 (Postgres's limit)" },
    ]);
  });
  it("rejects versions before 10", () => {
    expect(postgresIssues({ ...ok, majorVersion: 9 })).toEqual([{ path: "postgres.majorVersion", message: "postgres.majorVersion (9) must be 10 or later" }]);
  });
  it("rejects unknown workload and storage", () => {
    const bad = { ...ok, workload: "batch", storage: "nvme" } as unknown as PostgresInput;
    expect(postgresIssues(bad)).toEqual([
      { path: "postgres.workload", message: 'postgres.workload ("batch") must be one of web, oltp, dw, desktop, mixed' },
      { path: "postgres.storage", message: 'postgres.storage ("nvme") must be one of ssd, hdd, san' },
    ]);
  });
  it("reports every problem at once", () => {
    expect(postgresIssues({ ...ok, memoryMiB: 1, cpus: -1, maxConnections: 0 })).toHaveLength(3);
  });
});

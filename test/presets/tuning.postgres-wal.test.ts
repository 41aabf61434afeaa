/**
 * The WAL shares the data volume: its sizes follow the volume as well as the workload, and a
 * volume too small for a workable WAL is refused naming both fields.
 */
import { describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/index.js";
import { derive, presetIssues } from "../../presets/derive.js";
import { postgresIssues, postgresTuning, type PostgresInput } from "../../presets/tuning/postgres.js";

const GIB_MB = 1024;
const base: PostgresInput = { memoryMiB: 512, cpus: 1, workload: "web", storage: "ssd", maxConnections: 30 };

describe("WAL sizes on a volume", () => {
  it("memory-constrained (2 GiB volume): max_wal_size a quarter of it, not PGTune's 4GB", () => {
    const p = loadPreset("memory-constrained");
    expect(p.postgres.storageGiB).toBe(2);
    const s = derive(p).postgres.settings;
    // 2 GiB = 2048 MB; a quarter is 512 MB; min_wal_size a quarter of that.
    expect([s.min_wal_size, s.max_wal_size]).toEqual(["128MB", "512MB"]);
  });

  it("dev (5 GiB volume) leaves headroom: 1280MB, where PGTune's 4GB was 80 % of the volume", () => {
    const p = loadPreset("dev");
    const s = derive(p).postgres.settings;
    expect(s.max_wal_size).toBe("1280MB");
    expect(1280 / (p.postgres.storageGiB * GIB_MB)).toBe(0.25);
  });

  it("keeps PGTune's sizes where the volume is large", () => {
    expect(postgresTuning({ ...base, workload: "oltp", storageGiB: 200 }).settings).toMatchObject({ min_wal_size: "2GB", max_wal_size: "8GB" });
  });

  it("every shipped preset keeps max_wal_size within a quarter of its volume", () => {
    for (const name of ["dev", "memory-constrained", "balanced", "low-latency", "high-throughput"]) {
      const p = loadPreset(name);
      const max = derive(p).postgres.settings.max_wal_size!;
      const mb = max.endsWith("GB") ? Number.parseInt(max, 10) * 1024 : Number.parseInt(max, 10);
      expect(mb, name).toBeLessThanOrEqual(p.postgres.storageGiB * GIB_MB * 0.25);
    }
  });
});

describe("volume too small for the WAL", () => {
  it("names postgres.storageGiB and postgres.workload", () => {
    expect(postgresIssues({ ...base, storageGiB: 1 })).toEqual([
      {
        path: "postgres.storageGiB",
        related: ["postgres.workload"],
        message:
          "postgres.storageGiB (1) leaves 256 MB for the WAL (25 % of the volume it shares with the data), below the 512 MB max_wal_size worth running with (PGTune asks 4GB for postgres.workload web); raise postgres.storageGiB to at least 2",
      },
    ]);
    expect(postgresIssues({ ...base, storageGiB: 2 })).toEqual([]);
  });

  it("is part of a preset's issues", () => {
    const p = structuredClone(loadPreset("memory-constrained"));
    p.postgres.storageGiB = 1;
    expect(presetIssues(p).map((i) => i.path)).toContain("postgres.storageGiB");
  });
});

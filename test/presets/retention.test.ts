// Retention and storage sizing in presets and environment files (presets/retention.ts,
// presets/storage-sizing.ts), and the services' RETENTION_* variables.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPreset } from "../../presets/index.js";
import { durationSeconds, formatSeconds } from "../../presets/retention.js";
import { parsePgSize, storageSizing } from "../../presets/storage-sizing.js";
import { loadServiceConfig, ServiceConfigError } from "../../services/core/config.js";
import { ConfigError, loadEnvironments, serviceEnvironment, type ConfigIssue } from "../../stacks/config/index.js";
import { configDirs, DOCKER_ENV, type ConfigDirs } from "../stacks/config/helpers.js";

let dirs: ConfigDirs;
beforeEach(() => {
  dirs = configDirs();
});
afterEach(() => dirs.cleanup());

const load = (name: string) => loadEnvironments({ envs: [name] }, { dir: dirs.envDir, presetsDir: dirs.presetsDir });

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("durations", () => {
  it("parse a whole number with one unit, or forever", () => {
    expect(durationSeconds("90s")).toBe(90);
    expect(durationSeconds("30m")).toBe(1800);
    expect(durationSeconds("12h")).toBe(43_200);
    expect(durationSeconds("7d")).toBe(604_800);
    expect(durationSeconds("2w")).toBe(1_209_600);
    expect(durationSeconds("forever")).toBe(0);
    for (const bad of ["7", "-7d", "1.5d", "7 d", "7D", "7days", "", "d"]) expect(durationSeconds(bad)).toBeNull();
    expect(formatSeconds(604_800)).toBe("1w");
    expect(formatSeconds(90)).toBe("90s");
  });
});

describe("retention in an environment file", () => {
  it("overrides the preset's retention and reaches the worker as seconds", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}\noverrides:\n  retention: { completed: 2d, failed: forever }\n`);
    const [env] = load("a");
    expect(env!.preset.retention).toMatchObject({ completed: "2d", failed: "forever", cancelled: "7d" });
    const worker = serviceEnvironment(env!, "worker");
    expect(worker).toMatchObject({
      RETENTION_COMPLETED_SECONDS: "172800",
      RETENTION_FAILED_SECONDS: "0",
      RETENTION_CANCELLED_SECONDS: "604800",
      RETENTION_INTERVAL_MS: "60000",
      RETENTION_PARTITION_SECONDS: "86400",
    });
    expect(serviceEnvironment(env!, "api")).toMatchObject({ QUEUE_MAX_LENGTH: "1000000", DEAD_LETTER_MAX_LENGTH: "100000" });
  });

  it("refuses a bare number, a negative and an unparseable duration, naming the field and line", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}\noverrides:\n  retention:\n    completed: 7\n    failed: -3d\n    cancelled: soon\n`);
    const issues = issuesOf(() => load("a"));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath["overrides.retention.completed"]?.message).toMatch(/bare number \(7\) has no unit: write e\.g\. 7d/);
    expect(byPath["overrides.retention.failed"]?.message).toMatch(/must be a duration.*"-3d"/);
    expect(byPath["overrides.retention.cancelled"]?.message).toMatch(/must be a duration.*"soon"/);
    expect(byPath["overrides.retention.completed"]?.file).toMatch(/a\.yaml$/);
    expect(byPath["overrides.retention.completed"]?.line).toBe(14);
  });

  it("refuses a retention under an hour in a prod-like tier, and allows it in dev", () => {
    const short = "\noverrides:\n  retention: { completed: 30m, cancelled: 59m }\n";
    dirs.writeEnv("devtier", `${DOCKER_ENV}${short}`);
    expect(load("devtier")[0]!.preset.retention.completed).toBe("30m");
    dirs.writeEnv("stage", `${DOCKER_ENV.replace("tier: dev", "tier: staging")}${short}`);
    const issues = issuesOf(() => load("stage"));
    expect(issues.map((i) => i.path).sort()).toEqual(["overrides.retention.cancelled", "overrides.retention.completed"]);
    expect(issues[0]!.message).toMatch(/under 1h, which tier \(staging\) refuses as prod-like/);
  });

  it("checks that postgres.storageGiB holds the retention window, naming both fields", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}\noverrides:\n  throughput: { jobsPerSecond: 200 }\n  retention: { completed: 30d }\n`);
    const issues = issuesOf(() => load("a"));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("overrides.retention.completed"); // the override is to blame
    expect(issues[0]!.message).toMatch(/^postgres\.storageGiB \(5\) cannot hold retention \(completed 30d, .*\) at throughput\.jobsPerSecond \(200\)/);
    expect(issues[0]!.message).toMatch(/max_wal_size 1\.3 GiB/);
  });
});

describe("queue bounds against the broker's memory", () => {
  it("refuses bounds whose full queues would reach the memory watermark, naming the fields", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}\noverrides:\n  rabbitmq: { queueType: classic, maxQueueLength: 1000000 }\n`);
    const issues = issuesOf(() => load("a"));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("overrides.rabbitmq.maxQueueLength");
    expect(issues[0]!.message).toMatch(/rabbitmq\.maxQueueLength \(1000000\) and rabbitmq\.maxDeadLetterLength \(100000\) must fit in half of the memory watermark \(rabbitmq\.memoryMiB 512/);
    dirs.writeEnv("b", `${DOCKER_ENV}\noverrides:\n  rabbitmq: { maxQueueLength: 0 }\n`);
    expect(issuesOf(() => load("b"))[0]!.message).toMatch(/an unbounded queue \(0\) can fill it/);
  });
});

describe("storage sizing", () => {
  it("counts jobs and audit rows kept in steady state, WAL and vacuum headroom", () => {
    const p = loadPreset("balanced");
    const s = storageSizing(p, "4GB")!;
    // 20 jobs/s × (99 % × 7 d + 1 % × 30 d)
    expect(s.jobsKept).toBe(Math.round(20 * (0.99 * 604_800 + 0.01 * 2_592_000)));
    expect(s.walBytes).toBe(parsePgSize("4GB"));
    expect(s.neededBytes!).toBeLessThan(s.volumeBytes);
    expect(s.holdsDays).toBeGreaterThan(7);
    expect(storageSizing({ ...p, retention: { ...p.retention, completed: "forever" } }, "4GB")!.neededBytes).toBeNull();
    expect(storageSizing({ ...p, throughput: undefined }, "4GB")).toBeNull();
  });

  it("caps WAL at a quarter of a small volume", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace("preset: dev", "preset: memory-constrained"));
    const [env] = load("a");
    expect(env!.derived.postgres.settings.max_wal_size).toBe("512MB");
    expect(env!.derived.storage!.neededBytes!).toBeLessThan(2 * 1024 ** 3);
  });
});

describe("RETENTION_* in the services", () => {
  const base = { DATABASE_URL: "postgres://localhost/x" };
  it("reads seconds, 0 = forever, with documented defaults", () => {
    expect(loadServiceConfig("migrate", base).retention).toEqual({ completed: 604_800, failed: 2_592_000, cancelled: 604_800 });
    const c = loadServiceConfig("migrate", { ...base, RETENTION_COMPLETED_SECONDS: "3", RETENTION_FAILED_SECONDS: "0", RETENTION_INTERVAL_MS: "500" });
    expect(c.retention).toMatchObject({ completed: 3, failed: 0 });
    expect(c.retentionIntervalMs).toBe(500);
  });

  it("names each negative or unparseable retention variable", () => {
    try {
      loadServiceConfig("migrate", { ...base, RETENTION_COMPLETED_SECONDS: "-1", RETENTION_FAILED_SECONDS: "7d", RETENTION_INTERVAL_MS: "soon" });
      throw new Error("expected a ServiceConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceConfigError);
      const issues = (err as ServiceConfigError).issues;
      expect(issues).toContain("RETENTION_COMPLETED_SECONDS must be at least 0");
      expect(issues.some((i) => i.startsWith("RETENTION_FAILED_SECONDS"))).toBe(true);
      expect(issues.some((i) => i.startsWith("RETENTION_INTERVAL_MS"))).toBe(true);
    }
  });
});

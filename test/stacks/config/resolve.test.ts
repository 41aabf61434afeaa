import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadEnvironments, type ConfigIssue } from "../../../stacks/config/index.js";
import { configDirs, DOCKER_ENV, type ConfigDirs } from "./helpers.js";

let dirs: ConfigDirs;
beforeEach(() => {
  dirs = configDirs();
});
afterEach(() => dirs.cleanup());

function load(names?: string[], preset?: string) {
  return loadEnvironments({ ...(names ? { envs: names } : {}), ...(preset ? { preset } : {}) }, { dir: dirs.envDir, presetsDir: dirs.presetsDir });
}

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("resolving a valid environment", () => {
  it("merges overrides over the preset and derives settings from the merged values", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}\noverrides:\n  redis:\n    memoryMiB: 256\n  api:\n    replicas: 2\n`);
    const [env] = load(["a"]);
    expect(env!.preset.redis.memoryMiB).toBe(256);
    expect(env!.preset.api.replicas).toBe(2);
    // dev preset: 75% of the overridden 256 MiB, not of the preset's 128 MiB.
    expect(env!.derived.redis.maxmemoryBytes).toBe(Math.floor(256 * 1024 * 1024 * 0.75));
    expect(env!.presetSelection.overridden).toEqual(["redis.memoryMiB", "api.replicas"]);
    expect(env!.presetSelection.selectedBy).toBe("environment");
  });

  it("lets JOBSTACK_PRESET replace the preset of every selected environment", () => {
    dirs.writeEnv("a", DOCKER_ENV);
    dirs.writeEnv("b", DOCKER_ENV);
    const envs = load(undefined, "low-latency");
    expect(envs.map((e) => [e.name, e.presetSelection.name, e.presetSelection.selectedBy])).toEqual([
      ["a", "low-latency", "JOBSTACK_PRESET"],
      ["b", "low-latency", "JOBSTACK_PRESET"],
    ]);
    expect(envs[0]!.preset.worker.jvm.gc).toBe("ZGC");
  });

  it("limits the environments to JOBSTACK_ENVS", () => {
    dirs.writeEnv("a", DOCKER_ENV);
    dirs.writeEnv("b", DOCKER_ENV);
    expect(load(["b"]).map((e) => e.name)).toEqual(["b"]);
  });

  it("fills schema defaults once (redis policy, images of the data services, worker runtime)", () => {
    dirs.writeEnv("a", DOCKER_ENV);
    const [env] = load(["a"]);
    expect(env!.environment.worker.runtime).toBe("node");
    expect(env!.environment.images.redis).toMatch(/^redis:\d/);
    expect(env!.environment.backend).toEqual({ type: "local" });
    expect(env!.environment.docker!.apiPort).toBe(8080);
  });
});

describe("invalid configuration", () => {
  it("names an unknown environment and lists the known ones", () => {
    dirs.writeEnv("a", DOCKER_ENV);
    expect(issuesOf(() => load(["nope"]))).toEqual([
      { file: "JOBSTACK_ENVS", path: "", message: 'unknown environment "nope" (known: a)' },
    ]);
  });

  it("names an unknown preset, where it was referenced, and the known presets", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace("preset: dev", "preset: turbo"));
    const [issue] = issuesOf(() => load(["a"]));
    expect(issue!.path).toBe("preset");
    expect(issue!.file).toMatch(/a\.yaml$/);
    expect(issue!.message).toContain('unknown preset "turbo"');
    expect(issue!.message).toContain("balanced, dev, high-throughput, low-latency, memory-constrained");
  });

  it("blames JOBSTACK_PRESET for an unknown forced preset, once for all environments", () => {
    dirs.writeEnv("a", DOCKER_ENV);
    dirs.writeEnv("b", DOCKER_ENV);
    const issues = issuesOf(() => load(undefined, "nope"));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.file).toBe("JOBSTACK_PRESET");
  });

  it("treats an unknown field as an error with its line, not as something to ignore", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}tieer: prod\n`);
    const issues = issuesOf(() => load(["a"]));
    expect(issues).toEqual([expect.objectContaining({ path: "tieer", message: 'unknown field; did you mean "tier"?', line: 11 })]);
  });

  it("reports a wrong type with the field path", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace("driver: bridge", "driver: 7"));
    const [issue] = issuesOf(() => load(["a"]));
    expect(issue!.path).toBe("docker.network.driver");
    expect(issue!.line).toBe(7);
  });

  it("reports YAML syntax errors with a line number", () => {
    dirs.writeEnv("a", "target: docker\ntier: dev\n  preset: [unclosed\n");
    const [issue] = issuesOf(() => load(["a"]));
    expect(issue!.message).toMatch(/^YAML syntax error/);
    expect(issue!.line).toBeGreaterThanOrEqual(2);
  });

  it("refuses an unpinned image and the 'latest' tag", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace('api: { image: "ghcr.io/example/jobstack:0.1.0" }', 'api: { image: "ghcr.io/example/jobstack" }').replace('worker: { image: "ghcr.io/example/jobstack:0.1.0" }', 'worker: { image: "ghcr.io/example/jobstack:latest" }'));
    const issues = issuesOf(() => load(["a"]));
    expect(issues.map((i) => i.path).sort()).toEqual(["images.api.image", "images.worker.image"]);
  });

  it("blames the environment file for a bad override and the preset file for a bad preset value", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  redis:\n    policy: lru-please\n`);
    const [fromOverride] = issuesOf(() => load(["a"]));
    expect(fromOverride!.file).toMatch(/a\.yaml$/);
    expect(fromOverride!.path).toBe("overrides.redis.policy");
    expect(fromOverride!.line).toBe(13);

    dirs.writePreset("dev", readFileSync(`${dirs.presetsDir}/dev.yaml`, "utf8").replace("samples: 5", "samples: 500"));
    dirs.writeEnv("a", DOCKER_ENV);
    const [fromPreset] = issuesOf(() => load(["a"]));
    expect(fromPreset!.file).toMatch(/presets\/dev\.yaml$/);
    expect(fromPreset!.path).toBe("redis.samples");
  });

  it("blames an override that breaks a cross-check even when it changed the other field", () => {
    // dev: max_connections 30; api 1×5 + worker 1×6 + reserve 5 = 16 until the override.
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  worker:\n    replicas: 4\n`);
    expect(issuesOf(() => load(["a"]))).toEqual([
      expect.objectContaining({
        path: "overrides.worker.replicas",
        line: 13,
        message:
          "postgres.maxConnections (30) is below the pools it must serve (api 1×5 + worker 4×6 + reserve 5 = 34); raise it or shrink api.dbPoolSize / worker.dbPoolSize",
      }),
    ]);
  });

  it("reports every problem in a file at once, across environment and preset checks", () => {
    dirs.writeEnv(
      "a",
      `${DOCKER_ENV.replace("tier: dev", "tier: staging").replace("driver: bridge", "driver: overlay")}` +
        `secrets: { generateDevelopmentSecrets: true }\noverrides:\n  postgres: { maxConnections: 10 }\n  api: { replicas: 3 }\n`,
    );
    const issues = issuesOf(() => load(["a"]));
    const paths = issues.map((i) => i.path);
    expect(paths).toContain("docker.network.driver");
    expect(paths).toContain("secrets.generateDevelopmentSecrets");
    expect(paths).toContain("docker.network.encrypted");
    expect(paths).toContain("overrides.postgres.maxConnections");
  });

  it("collects problems of several environments into one error, so nothing is synthesized", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace("preset: dev", "preset: x1"));
    dirs.writeEnv("b", DOCKER_ENV.replace("preset: dev", "preset: x2"));
    const issues = issuesOf(() => load());
    expect(issues.map((i) => i.message.slice(0, 18))).toEqual(['unknown preset "x1', 'unknown preset "x2']);
  });
});

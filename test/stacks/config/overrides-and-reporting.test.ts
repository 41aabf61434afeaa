import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadEnvironments, type ConfigIssue } from "../../../stacks/config/index.js";
import { configDirs, DOCKER_ENV, type ConfigDirs } from "./helpers.js";

let dirs: ConfigDirs;
beforeEach(() => {
  dirs = configDirs();
});
afterEach(() => dirs.cleanup());

const load = (names: string[]) => loadEnvironments({ envs: names }, { dir: dirs.envDir, presetsDir: dirs.presetsDir });

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const KUBERNETES_ENV = `
target: kubernetes
tier: dev
preset: balanced
kubernetes:
  namespace: jobstack-a
  kubeconfig: { path: ~/.kube/config, context: a }
  storageClass: standard
  ingress: { host: a.example.com, className: nginx }
images:
  api: { image: "ghcr.io/example/jobstack:0.1.0" }
  worker: { image: "ghcr.io/example/jobstack:0.1.0" }
`;

describe("overrides as a merge patch (RFC 7386)", () => {
  it("deletes a merged key with null, so the dev preset can switch to ZGC", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  worker:\n    jvm: { gc: ZGC, maxGcPauseMillis: null }\n`);
    const [env] = load(["a"]);
    expect(env!.preset.worker.jvm.gc).toBe("ZGC");
    expect(env!.preset.worker.jvm).not.toHaveProperty("maxGcPauseMillis");
    expect(env!.derived.worker.jvm.javaToolOptions).toContain("-XX:+UseZGC");
    expect(env!.derived.worker.jvm.javaToolOptions).not.toContain("MaxGCPauseMillis");
  });

  it("tells how to delete the pause goal when it is left in", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  worker:\n    jvm: { gc: ZGC }\n`);
    const [issue] = issuesOf(() => load(["a"]));
    // The override changed worker.jvm.gc, so the environment file is blamed, at that line.
    expect(issue).toMatchObject({ path: "overrides.worker.jvm.gc", line: 13 });
    expect(issue!.message).toContain("maxGcPauseMillis: null");
  });

  it("treats null over a missing key as nothing to delete", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  worker:\n    jvm: { g1RegionSizeMiB: null }\n`);
    expect(load(["a"])[0]!.preset.worker.jvm).not.toHaveProperty("g1RegionSizeMiB");
  });
});

describe("every problem of every file in one run", () => {
  it("reports the preset's problems together with the environment file's schema problems", () => {
    dirs.writePreset("dev", readFileSync(`${dirs.presetsDir}/dev.yaml`, "utf8").replace("samples: 5", "samples: 500"));
    dirs.writeEnv("a", DOCKER_ENV.replace("driver: bridge", "driver: 7"));
    const issues = issuesOf(() => load(["a"]));
    expect(issues.map((i) => `${i.file.replace(/.*\//, "")} ${i.path}`)).toEqual(["a.yaml docker.network.driver", "dev.yaml redis.samples"]);
  });

  it("runs the cross-checks whose sections parsed when another section failed its schema", () => {
    // redis.samples fails the schema; healthCheck and the connection budget still get checked.
    dirs.writeEnv(
      "a",
      `${DOCKER_ENV}overrides:\n  redis: { samples: 500 }\n  healthCheck: { timeoutSeconds: 10 }\n  worker: { replicas: 4 }\n`,
    );
    const issues = issuesOf(() => load(["a"]));
    expect(issues.map((i) => i.path).sort()).toEqual(["overrides.healthCheck.timeoutSeconds", "overrides.redis.samples", "overrides.worker.replicas"]);
  });

  it("gives an unknown preset inside an environment file its line, and suggests the near name", () => {
    dirs.writeEnv("a", DOCKER_ENV.replace("preset: dev", "preset: balancd"));
    expect(issuesOf(() => load(["a"]))).toEqual([
      {
        file: expect.stringMatching(/a\.yaml$/),
        path: "preset",
        line: 4,
        message: 'unknown preset "balancd" (known presets: balanced, dev, high-throughput, low-latency, memory-constrained); did you mean "balanced"?',
      },
    ]);
  });
});

describe("did you mean", () => {
  it("suggests the known field for a misspelt preset field inside overrides", () => {
    dirs.writeEnv("a", `${DOCKER_ENV}overrides:\n  worker:\n    concurency: 8\n`);
    expect(issuesOf(() => load(["a"]))).toEqual([
      expect.objectContaining({ path: "overrides.worker.concurency", message: 'unknown field; did you mean "concurrency"?', line: 13 }),
    ]);
  });

  it("suggests a known environment name, and nothing for an unrelated word", () => {
    dirs.writeEnv("staging", DOCKER_ENV);
    expect(issuesOf(() => load(["stagin"]))[0]!.message).toBe('unknown environment "stagin" (known: staging); did you mean "staging"?');
    expect(issuesOf(() => load(["zzz"]))[0]!.message).toBe('unknown environment "zzz" (known: staging)');
  });
});

describe("worker autoscaling exists only on Kubernetes", () => {
  const tooFew = `overrides:\n  postgres: { maxConnections: 30 }\n`;

  it("counts the preset's replicas on Docker and never speaks of autoscaling", () => {
    // balanced: api 2×10 + worker 3×10 + reserve 10 = 60 on Docker (replicas, not the HPA's 6).
    dirs.writeEnv("a", `${DOCKER_ENV.replace("preset: dev", "preset: balanced")}${tooFew}`);
    const [issue] = issuesOf(() => load(["a"]));
    expect(issue!.message).toBe(
      "postgres.maxConnections (30) is below the pools it must serve (api 2×10 + worker 3×10 + reserve 10 = 60); raise it or shrink api.dbPoolSize / worker.dbPoolSize",
    );
  });

  it("counts the autoscaling maximum on Kubernetes", () => {
    dirs.writeEnv("a", `${KUBERNETES_ENV}${tooFew}`);
    const [issue] = issuesOf(() => load(["a"]));
    expect(issue!.message).toContain("worker (autoscaling max) 6×10 + reserve 10 = 90");
  });
});

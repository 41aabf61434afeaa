import { describe, expect, it } from "vitest";
import { connectionBudget, presetCrossIssues } from "../../presets/cross-checks.js";
import { loadPreset } from "../../presets/index.js";
import type { Preset } from "../../presets/schema.js";

const base = (): Preset => structuredClone(loadPreset("balanced"));
/** Path and message only; `related` is checked where it matters. */
const issuesOf = (p: Preset) => presetCrossIssues(p).map(({ path, message }) => ({ path, message }));

describe("connection budget", () => {
  it("counts the autoscaling maximum of workers, not their starting replicas", () => {
    const p = base();
    expect(p.worker.autoscaling).toEqual({ enabled: true, minReplicas: 3, maxReplicas: 6, targetCpuPercent: 70 });
    expect(connectionBudget(p)).toEqual({ apiReplicas: 2, apiPool: 10, workerReplicas: 6, workerPool: 10, reserve: 10, total: 90 });
  });
});

describe("preset cross-checks", () => {
  it("passes every shipped preset", () => {
    for (const name of ["dev", "balanced", "high-throughput", "low-latency", "memory-constrained"]) {
      expect(presetCrossIssues(loadPreset(name)), name).toEqual([]);
    }
  });

  it("names max_connections and every pool it must serve", () => {
    const p = base();
    p.postgres.maxConnections = 40;
    p.worker.autoscaling = undefined;
    p.worker.replicas = 4;
    p.worker.dbPoolSize = 8;
    p.api.replicas = 3;
    p.postgres.connectionReserve = 5;
    expect(issuesOf(p)).toEqual([
      {
        path: "postgres.maxConnections",
        message:
          "postgres.maxConnections (40) is below the pools it must serve (api 3×10 + worker 4×8 + reserve 5 = 67); raise it or shrink api.dbPoolSize / worker.dbPoolSize",
      },
    ]);
  });

  it("lists every field the budget depends on, so an override of any of them is blamed", () => {
    const p = base();
    p.postgres.maxConnections = 50;
    expect(presetCrossIssues(p)[0]!.related).toEqual([
      "api.replicas",
      "api.dbPoolSize",
      "worker.replicas",
      "worker.dbPoolSize",
      "worker.autoscaling.maxReplicas",
      "postgres.connectionReserve",
    ]);
  });

  it("labels the autoscaled worker count in the budget message", () => {
    const p = base();
    p.postgres.maxConnections = 50;
    expect(presetCrossIssues(p)[0]!.message).toContain("worker (autoscaling max) 6×10");
  });

  it("keeps the worker pool above the statements a worker can have in flight", () => {
    const p = base();
    p.worker.dbPoolSize = 5;
    expect(issuesOf(p)).toEqual([
      {
        path: "worker.dbPoolSize",
        message:
          "worker.dbPoolSize (5) is below 6: claims and completions each keep up to two batched statements in flight, plus lease renewals, the reaper and the sweeper",
      },
    ]);
    p.worker.dbPoolSize = 6;
    p.worker.concurrency = 64;
    expect(issuesOf(p)).toEqual([]);
  });

  it("requires a health-check timeout shorter than its interval", () => {
    const p = base();
    p.healthCheck.timeoutSeconds = 10;
    expect(issuesOf(p)).toEqual([
      { path: "healthCheck.timeoutSeconds", message: "healthCheck.timeoutSeconds (10) must be less than healthCheck.intervalSeconds (10)" },
    ]);
  });

  it("refuses a rollout that can never progress", () => {
    const p = base();
    p.rollout = { maxSurge: 0, maxUnavailable: 0 };
    expect(presetCrossIssues(p).map((i) => i.path)).toEqual(["rollout.maxSurge"]);
  });

  it("checks autoscaling bounds against each other and the replica count", () => {
    const p = base();
    p.worker.autoscaling = { enabled: true, minReplicas: 8, maxReplicas: 4, targetCpuPercent: 70 };
    expect(presetCrossIssues(p).map((i) => i.message)).toEqual([
      "worker.autoscaling.minReplicas (8) must not exceed worker.autoscaling.maxReplicas (4)",
      "worker.replicas (3) must lie within worker.autoscaling.minReplicas..maxReplicas (8..4)",
    ]);
  });

  it("keeps the broker's consumer timeout above the worker lease", () => {
    const p = base();
    p.rabbitmq.consumerTimeoutMs = 60_000;
    p.worker.leaseMs = 60_000;
    expect(issuesOf(p)[0]).toEqual({
      path: "rabbitmq.consumerTimeoutMs",
      message: "rabbitmq.consumerTimeoutMs (60000) must exceed worker.leaseMs (60000), or the broker drops deliveries of jobs still under lease",
    });
  });

  it("allows exactly one GC: extra flags may not select another collector or fix the heap", () => {
    const p = base();
    p.worker.jvm.extraFlags = ["-XX:+AlwaysPreTouch", "-XX:+UseParallelGC", "-Xmx512m"];
    expect(issuesOf(p)).toEqual([
      {
        path: "worker.jvm.extraFlags[1]",
        message: "worker.jvm.extraFlags[1] (-XX:+UseParallelGC) selects a collector, but worker.jvm.gc (G1) already does: exactly one GC may be selected",
      },
      {
        path: "worker.jvm.extraFlags[2]",
        message:
          "worker.jvm.extraFlags[2] (-Xmx512m) fixes the heap size, which overrides worker.jvm.maxRamPercentage and ignores the container limit; remove it",
      },
    ]);
  });
});

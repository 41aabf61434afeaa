import { describe, expect, it } from "vitest";
import { containerEnv, podSpec, probes, SCRATCH_SIZE_LIMIT } from "../../../stacks/kubernetes/pod.js";
import { cpuQuantity, parseUser, volumeNameForPath } from "../../../stacks/kubernetes/quantities.js";
import { service, type HealthCheck } from "../../../stacks/topology.js";
import { prod } from "./support.js";

const health: HealthCheck = {
  liveness: { kind: "http", path: "/healthz", port: 8080 },
  readiness: { kind: "http", path: "/readyz", port: 8080 },
  intervalSeconds: 15,
  timeoutSeconds: 5,
  retries: 3,
  startPeriodSeconds: 45,
};

describe("probes", () => {
  it("maps interval, timeout and retries onto liveness and readiness", () => {
    const p = probes(health);
    expect(p.livenessProbe).toEqual({ httpGet: { path: "/healthz", port: "8080", scheme: "HTTP" }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 3 });
    expect(p.readinessProbe?.httpGet?.path).toBe("/readyz");
  });

  it("sizes the startup probe to the start period plus the retry budget, polling at most every 5 s", () => {
    const s = probes(health).startupProbe!;
    expect(s.httpGet?.path).toBe("/healthz");
    expect(s.periodSeconds).toBe(5);
    // 45 s start period + 3 × 15 s = 90 s → 18 checks of 5 s.
    expect(s.failureThreshold).toBe(18);
  });

  it("polls at the interval when it is shorter than 5 s, and has no startup probe without a start period", () => {
    expect(probes({ ...health, intervalSeconds: 2, startPeriodSeconds: 9 }).startupProbe).toMatchObject({ periodSeconds: 2, failureThreshold: 8 });
    expect(probes({ ...health, startPeriodSeconds: 0 }).startupProbe).toBeUndefined();
  });

  it("renders exec checks as exec probes", () => {
    const p = probes({ ...health, liveness: { kind: "exec", command: ["pg_isready"] }, readiness: { kind: "exec", command: ["pg_isready"] } });
    expect(p.livenessProbe?.exec?.command).toEqual(["pg_isready"]);
    expect(p.livenessProbe?.httpGet).toBeUndefined();
  });
});

describe("containerEnv", () => {
  it("passes plain values and references the Secret for every secret-bearing variable", () => {
    const api = service(prod().topology, "api");
    const env = containerEnv(api, "jobstack-secrets");
    expect(env.find((e) => e.name === "NODE_OPTIONS")?.value).toMatch(/^--max-old-space-size=\d+$/);
    for (const name of ["DATABASE_URL", "REDIS_URL", "AMQP_URL", "API_TOKEN"]) {
      const e = env.find((x) => x.name === name)!;
      expect(e.value).toBeUndefined();
      expect(e.valueFrom?.secretKeyRef?.name).toBe("jobstack-secrets");
    }
  });

  it("refuses a variable set both as a value and as a secret", () => {
    const api = service(prod().topology, "api");
    expect(() => containerEnv({ ...api, env: { ...api.env, API_TOKEN: "x" } }, "s")).toThrow(/API_TOKEN is set both/);
  });
});

describe("podSpec", () => {
  const { topology } = prod();

  it("mounts an emptyDir per scratch path and /dev/shm in memory for Postgres", () => {
    const pg = service(topology, "postgres");
    const spec = podSpec(pg, { secretName: "s", fsGroup: true });
    const volumes = spec.volume as { name: string; emptyDir?: { medium?: string; sizeLimit?: string } }[];
    expect(volumes.find((v) => v.name === "scratch-var-run-postgresql")?.emptyDir).toEqual({ sizeLimit: SCRATCH_SIZE_LIMIT });
    expect(volumes.find((v) => v.name === "dshm")?.emptyDir).toEqual({ medium: "Memory", sizeLimit: `${pg.shmSizeMiB}Mi` });
    expect(spec.securityContext?.fsGroup).toBe("999");
  });

  it("prefers spreading replicas across nodes when asked", () => {
    const spec = podSpec(service(topology, "api"), { secretName: "s", spreadAcrossNodes: true });
    const [term] = spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution as { podAffinityTerm: { topologyKey: string } }[];
    expect(term?.podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
  });

  it("fails when a config file has no ConfigMap", () => {
    expect(() => podSpec(service(topology, "rabbitmq"), { secretName: "s" })).toThrow(/no ConfigMap rendered for config file rabbitmq-conf/);
  });
});

describe("quantities", () => {
  it("formats CPU in millicores and parses users", () => {
    expect(cpuQuantity(0.25)).toBe("250m");
    expect(cpuQuantity(2)).toBe("2000m");
    expect(parseUser("999:998")).toEqual({ uid: "999", gid: "998" });
    expect(parseUser("1000")).toEqual({ uid: "1000", gid: "1000" });
    expect(volumeNameForPath("/var/run/postgresql")).toBe("var-run-postgresql");
  });

  it("refuses root and names", () => {
    expect(() => parseUser("0:0")).toThrow(/is root/);
    expect(() => parseUser("node")).toThrow(/must be numeric/);
  });
});

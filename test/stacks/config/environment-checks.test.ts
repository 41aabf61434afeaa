import { describe, expect, it } from "vitest";
import { environmentIssues } from "../../../stacks/config/environment-checks.js";
import { EnvironmentSchema, type EnvironmentInput } from "../../../stacks/config/schema.js";

const dockerEnv = (patch: Partial<EnvironmentInput> = {}): EnvironmentInput => ({
  target: "docker",
  tier: "dev",
  preset: "dev",
  docker: { network: { driver: "bridge" } },
  images: { api: { image: "ghcr.io/example/jobstack:0.1.0" }, worker: { image: "ghcr.io/example/jobstack:0.1.0" } },
  ...patch,
});
const issues = (input: EnvironmentInput) => environmentIssues(EnvironmentSchema.parse(input));

describe("environment checks", () => {
  it("accepts a plain dev environment", () => {
    expect(issues(dockerEnv())).toEqual([]);
  });

  it("refuses an overlay network unless the host is a Swarm manager, naming both fields", () => {
    expect(issues(dockerEnv({ docker: { network: { driver: "overlay" } } }))).toEqual([
      {
        path: "docker.network.driver",
        message: "docker.network.driver (overlay) needs docker.swarmManager: true (overlay networks and services exist only in Swarm mode)",
      },
    ]);
    expect(issues(dockerEnv({ docker: { swarmManager: true, network: { driver: "overlay" } } }))).toEqual([]);
  });

  it("requires an image of its own for the JVM worker", () => {
    const env = dockerEnv({
      worker: { runtime: "jvm" },
      images: { api: { image: "ghcr.io/example/jobstack:0.1.0" }, worker: { build: { tag: "jobstack:1.0.0" } } },
    });
    expect(issues(env).map((i) => i.path)).toEqual(["images.worker"]);
    expect(issues(env)[0]!.message).toMatch(/^worker.runtime \(jvm\) needs images.worker.image/);
  });

  it("keeps prod-like tiers off insecure defaults", () => {
    const env = dockerEnv({
      tier: "prod",
      logLevel: "debug",
      secrets: { generateDevelopmentSecrets: true },
      docker: { host: "tcp://10.0.0.5:2375", swarmManager: true, network: { driver: "overlay" } },
    });
    expect(issues(env).map((i) => i.path)).toEqual(["secrets.generateDevelopmentSecrets", "logLevel", "docker.certPath", "docker.network.encrypted"]);
  });

  it("matches the target block to the target", () => {
    expect(issues(dockerEnv({ target: "kubernetes" })).map((i) => i.path)).toEqual(["kubernetes", "docker"]);
  });
});

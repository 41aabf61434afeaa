/**
 * Invalid combinations stop before any Terraform is written, with a message that names the file,
 * the fields and the fix. Environment files are written to a temp folder and loaded the way
 * `cdktf synth` loads them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadEnvironment, loadEnvironments } from "../../../stacks/config/index.js";
import { DockerSystem } from "../../../stacks/docker/index.js";
import { buildTopology } from "../../../stacks/topology.js";

const dir = mkdtempSync(join(tmpdir(), "jobstack-docker-invalid-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `target: docker
tier: dev
preset: dev
images:
  api: { image: "ghcr.io/example/jobstack:0.1.0" }
  worker: { image: "ghcr.io/example/jobstack:0.1.0" }
secrets: { generateDevelopmentSecrets: true }
`;

function load(name: string, yaml: string) {
  writeFileSync(join(dir, `${name}.yaml`), yaml);
  return () => loadEnvironments({ envs: [name] }, { dir });
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("invalid combinations", () => {
  it("refuses an overlay network without Swarm mode", () => {
    const msg = messageOf(load("overlay-no-swarm", `${BASE}docker: { network: { driver: overlay } }\n`));
    expect(msg).toContain("overlay-no-swarm.yaml");
    expect(msg).toContain("docker.network.driver (overlay) needs docker.swarmManager: true");
  });

  it("refuses a JVM worker without its own image", () => {
    const msg = messageOf(
      load(
        "jvm-build",
        `target: docker
tier: dev
preset: dev
docker: { network: { driver: bridge } }
images:
  api: { build: { tag: "jobstack:0.1.0-dev" } }
  worker: { build: { tag: "jobstack:0.1.0-dev" } }
worker: { runtime: jvm }
`,
      ),
    );
    expect(msg).toContain("images.worker: worker.runtime (jvm) needs images.worker.image");
  });

  it("refuses a preset whose memory does not fit its heap, naming both fields and the override", () => {
    const msg = messageOf(
      load("tight-heap", `${BASE}docker: { network: { driver: bridge } }\noverrides:\n  api: { memoryMiB: 128, heapPercent: 90 }\n`),
    );
    expect(msg).toMatch(/tight-heap\.yaml:\d+: overrides\.api\.heapPercent: api\.heapPercent \(90%\) of api\.memoryMiB \(128\)/);
    expect(msg).toContain("lower api.heapPercent");
  });

  it("refuses a JVM heap that leaves the container no room, through the same path", () => {
    const msg = messageOf(load("jvm-heap", `${BASE}docker: { network: { driver: bridge } }\noverrides:\n  worker: { jvm: { maxRamPercentage: 99 } }\n`));
    expect(msg).toMatch(/overrides\.worker\.jvm\.maxRamPercentage: worker\.jvm\.maxRamPercentage \(99%\) of worker\.memoryMiB \(\d+\) leaves \d+ MiB outside the heap/);
  });

  it("reports every problem of a file at once", () => {
    const msg = messageOf(
      load("many", `${BASE.replace("tier: dev", "tier: staging")}docker: { network: { driver: overlay } }\noverrides:\n  api: { memoryMiB: 128, heapPercent: 90 }\n`),
    );
    expect(msg).toMatch(/invalid configuration \([3-9] problems\)/);
    expect(msg).toContain("docker.swarmManager: true");
    expect(msg).toContain("generateDevelopmentSecrets");
    expect(msg).toContain("api.heapPercent");
  });

  it("DockerSystem itself refuses an overlay without Swarm and a non-Docker environment", () => {
    const staging = loadEnvironment("staging");
    const notSwarm = { ...staging, environment: { ...staging.environment, docker: { ...staging.environment.docker!, swarmManager: false } } };
    expect(() => Testing.synthScope((scope) => new DockerSystem(scope, "system", { env: notSwarm, topology: buildTopology(notSwarm) }))).toThrow(
      "staging: docker.network.driver (overlay) needs docker.swarmManager: true",
    );
    const prod = loadEnvironment("prod");
    expect(() => Testing.synthScope((scope) => new DockerSystem(scope, "system", { env: prod, topology: buildTopology(prod) }))).toThrow(
      /DockerSystem renders target 'docker' environments/,
    );
  });
});

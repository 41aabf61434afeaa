/**
 * One block per construct of stacks/docker: what each renders, checked with cdktf's
 * `Testing.synth` / `toHaveResourceWithProperties` on the shipped environments (dev is a bridge
 * host, staging a Swarm), and with `Testing.synthScope` for constructs used on their own.
 */
import { Container } from "@cdktf/provider-docker/lib/container/index.js";
import { Image } from "@cdktf/provider-docker/lib/image/index.js";
import { Network } from "@cdktf/provider-docker/lib/network/index.js";
import { Service } from "@cdktf/provider-docker/lib/service/index.js";
import { Volume } from "@cdktf/provider-docker/lib/volume/index.js";
import { Config } from "@cdktf/provider-docker/lib/config/index.js";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { DockerSystem, hostOf } from "../../../stacks/docker/index.js";
import { dockerHealthcheck, healthTest, healthyWithinSeconds } from "../../../stacks/docker/health.js";
import { Images } from "../../../stacks/docker/images.js";
import { JobNetwork } from "../../../stacks/docker/network.js";
import { DockerWorkload, LOG_OPTIONS, type DockerContext } from "../../../stacks/docker/workload.js";
import { buildTopology, dependencyOrder, service, type Topology } from "../../../stacks/topology.js";
import { argsOf, envFromYaml, envOf, expectResource, healthcheckOf, resources, synthEnv, synthNamed, workloadsOf, type Json } from "./helpers.js";

const dev = synthNamed("dev");
const staging = synthNamed("staging");
const devTopology = buildTopology(dev.env);
const stagingTopology = buildTopology(staging.env);

describe("DockerSystem", () => {
  it("configures the provider with the environment's host, and the cert path through pathexpand", () => {
    expect(Testing.toHaveProviderWithProperties(dev.text, "docker", { host: "unix:///var/run/docker.sock" })).toBe(true);
    expect(dev.json.provider.docker[0].cert_path).toBeUndefined();
    expect(staging.json.provider.docker[0]).toEqual({
      host: "tcp://swarm-manager.staging.internal:2376",
      cert_path: '${pathexpand("~/.docker/staging")}',
    });
  });

  it("outputs the API URL and the network name", () => {
    expect(dev.json.output.api_url.value).toBe("http://localhost:8080");
    expect(staging.json.output.api_url.value).toBe("http://swarm-manager.staging.internal:8080");
    expect(dev.json.output.network_name.value).toMatch(/^\$\{docker_network\.[^.]+\.name\}$/);
    const system = dev.stack.node.findChild("system") as DockerSystem;
    expect(system.apiUrl).toBe("http://localhost:8080");
    expect(system.networkName).toBe("jobstack-dev");
    expect(system.mode).toBe("containers");
    expect((staging.stack.node.findChild("system") as DockerSystem).mode).toBe("swarm");
  });

  it("renders containers on a bridge host and Swarm services on an overlay, never both", () => {
    expect(Object.keys(resources(dev.json, Service.tfResourceType))).toHaveLength(0);
    expect(Object.keys(resources(dev.json, Container.tfResourceType))).toHaveLength(6);
    expect(Object.keys(resources(staging.json, Container.tfResourceType))).toHaveLength(0);
    expect(Object.keys(resources(staging.json, Service.tfResourceType))).toHaveLength(6);
  });

  it("uses generated passwords for dev and sensitive variables named for TF_VAR_* otherwise", () => {
    expect(Object.keys(resources(dev.json, "random_password")).sort()).toHaveLength(5);
    expect(dev.json.variable).toBeUndefined();
    expect(Object.keys(staging.json.variable).sort()).toEqual(["api_token", "operator_token", "postgres_password", "rabbitmq_password", "redis_password"]);
    for (const v of Object.values(staging.json.variable as Record<string, Json>)) expect(v.sensitive).toBe(true);
    expect(resources(staging.json, "random_password")).toEqual({});
  });

  it("keeps Terraform addresses stable: kebab-case construct ids under system/", () => {
    // Testing.synth drops the metadata block, so the addresses themselves are checked:
    // `<construct path joined by _>_<hash>`, which changes only when a construct id does.
    const names = Object.keys(resources(dev.json, Container.tfResourceType)).map((k) => k.replace(/_[0-9A-F]{8}$/, "")).sort();
    expect(names).toEqual([
      "system_api_container",
      "system_migrate_container",
      "system_postgres_container",
      "system_rabbitmq_container",
      "system_redis_container",
      "system_worker_container",
    ]);
    expect(Object.keys(resources(dev.json, Volume.tfResourceType)).map((k) => k.replace(/_[0-9A-F]{8}$/, "")).sort()).toEqual([
      "system_volumes_postgres-data",
      "system_volumes_rabbitmq-data",
      "system_volumes_redis-data",
    ]);
  });

  it("publishes consecutive host ports for api replicas on a bridge host, one routed port on Swarm", () => {
    const balanced = synthNamed("dev", "balanced");
    const apis = workloadsOf(balanced.json, "api");
    expect(apis.map((c) => c.ports[0].external).sort()).toEqual([8080, 8081]);
    expect(new Set(apis.map((c) => c.name))).toEqual(new Set(["jobstack-dev-api", "jobstack-dev-api-2"]));
    expect(workloadsOf(balanced.json, "worker")).toHaveLength(3); // the balanced preset's worker replicas
    expectResource(staging.text, Service.tfResourceType, {
      name: "jobstack-staging-api",
      mode: { replicated: { replicas: 2 } }, // staging's preset
      endpointSpec: { ports: [{ name: "http", protocol: "tcp", targetPort: 8080, publishedPort: 8080, publishMode: "ingress" }] },
    });
  });
});

describe("JobNetwork", () => {
  it("is a user-defined bridge for dev", () => {
    expectResource(dev.text, Network.tfResourceType, { name: "jobstack-dev", driver: "bridge" });
    const net = Object.values(resources(dev.json, Network.tfResourceType))[0]!;
    expect(net.attachable).toBeUndefined();
    expect(net.options).toBeUndefined();
  });

  it("is an attachable, encrypted overlay for staging", () => {
    expectResource(staging.text, Network.tfResourceType, { name: "jobstack-staging", driver: "overlay", attachable: true, options: { encrypted: "true" } });
  });

  it("refuses encryption on a bridge", () => {
    expect(() =>
      Testing.synthScope((scope) => new JobNetwork(scope, "network", { name: "n", driver: "bridge", encrypted: true, labels: {} })),
    ).toThrow(/'encrypted' \(true\) needs driver 'overlay' \(got 'bridge'\)/);
  });

  it("passes a subnet to IPAM", () => {
    const text = Testing.synthScope((scope) => new JobNetwork(scope, "network", { name: "n", driver: "bridge", subnet: "10.42.0.0/24", labels: {} }));
    expectResource(text, Network.tfResourceType, { ipamConfig: [{ subnet: "10.42.0.0/24" }] });
  });
});

describe("Images", () => {
  it("pulls the data services' images by tag and keeps them locally", () => {
    for (const name of [
      "postgres:16.15-bookworm@sha256:efedf3595f1d6f415c08568ba171029bf54052e754cc9f030e3f2412b21f3d67",
      "redis:7.4.11-bookworm@sha256:c6eabf748fc7a61dbb5a705c78bcf3d6377b1127a97d0ce965c11c44ba46896f",
      "rabbitmq:4.3.6-management@sha256:c6c748ed27d7fd3733187c73cd022feae76d6a7c2ffa4bf1ab3ef75edfdb9797",
    ]) {
      expectResource(dev.text, Image.tfResourceType, { name, keepLocally: true });
    }
  });

  it("builds api and worker once when they share a tag, with BuildKit, from the repository root as Terraform sees it", () => {
    const images = Object.values(resources(dev.json, Image.tfResourceType));
    const built = images.filter((i) => i.build);
    expect(built).toHaveLength(1);
    expect(built[0]!.name).toBe("jobstack:0.1.0-dev");
    expect(built[0]!.build).toMatchObject({
      context: '${abspath(format("%s/%s", path.module, "../../.."))}',
      dockerfile: "services/Dockerfile",
      tag: ["jobstack:0.1.0-dev"],
      version: "2",
    });
    expect(built[0]!.triggers.sources).toMatch(/^\$\{sha1\(join\("", \[for f in sort\(fileset\(/);
    const ref = Object.keys(resources(dev.json, Image.tfResourceType)).find((k) => resources(dev.json, Image.tfResourceType)[k]!.build)!;
    for (const role of ["api", "worker", "migrate"]) {
      expect(workloadsOf(dev.json, role)[0]!.image).toBe(`\${docker_image.${ref}.image_id}`);
    }
  });

  it("refuses one tag built two different ways", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const images = new Images(scope, "images", { labels: {} });
        const api = service(devTopology, "api");
        images.forService(api);
        images.forService({ ...api, name: "worker", image: { kind: "build", ref: api.image.ref, context: "other", dockerfile: "Dockerfile" } });
      }),
    ).toThrow(/image jobstack:0\.1\.0-dev: worker declares it as built from other with Dockerfile, another service as built from \. with services\/Dockerfile/);
  });

  it("references Swarm images by tag, which every node can pull", () => {
    const api = workloadsOf(staging.json, "api")[0]!;
    expect(api.task_spec.container_spec.image).toMatch(/^\$\{docker_image\.[^.]+\.name\}$/);
    expectResource(staging.text, Image.tfResourceType, { name: "ghcr.io/example/jobstack:0.1.0", keepLocally: true });
  });
});

describe("volumes", () => {
  it("gives each data service a named, environment-prefixed volume that Terraform will not destroy", () => {
    for (const [env, prefix] of [[dev, "jobstack-dev"], [staging, "jobstack-staging"]] as const) {
      for (const v of ["postgres-data", "redis-data", "rabbitmq-data"]) {
        expectResource(env.text, Volume.tfResourceType, { name: `${prefix}-${v}`, lifecycle: { preventDestroy: true } });
      }
    }
    const volumeKey = Object.entries(resources(dev.json, Volume.tfResourceType)).find(([, v]) => v.name === "jobstack-dev-postgres-data")![0];
    expectResource(dev.text, Container.tfResourceType, {
      name: "jobstack-dev-postgres",
      volumes: [{ containerPath: "/var/lib/postgresql/data", volumeName: `\${docker_volume.${volumeKey}.name}` }],
    });
  });
});

describe("shared workload base", () => {
  // What dev's topology asks of each container, written out: memory in MiB, CPUs, user, read-only
  // root with its tmpfs mounts, restart policy.
  const DEV_CONTAINERS = {
    postgres: { memory: 512, cpus: "0.5", user: "999:999", read_only: true, tmpfs: ["/tmp", "/var/run/postgresql"], restart: "unless-stopped" },
    redis: { memory: 128, cpus: "0.25", user: "999:999", read_only: true, tmpfs: ["/tmp"], restart: "unless-stopped" },
    rabbitmq: { memory: 512, cpus: "0.5", user: "999:999", read_only: false, tmpfs: undefined, restart: "unless-stopped" },
    migrate: { memory: 256, cpus: "0.5", user: "1000:1000", read_only: true, tmpfs: ["/tmp"], restart: "no" },
    api: { memory: 256, cpus: "0.5", user: "1000:1000", read_only: true, tmpfs: ["/tmp"], restart: "unless-stopped" },
    worker: { memory: 512, cpus: "0.5", user: "1000:1000", read_only: true, tmpfs: ["/tmp"], restart: "unless-stopped" },
  } as const;

  it("limits memory (no swap) and CPU, drops capabilities, runs as the topology's user, rotates logs", () => {
    expect(devTopology.services.map((s) => s.name).sort()).toEqual(Object.keys(DEV_CONTAINERS).sort());
    for (const [name, want] of Object.entries(DEV_CONTAINERS)) {
      const [c] = workloadsOf(dev.json, name);
      expect(c, name).toMatchObject({
        memory: want.memory,
        memory_swap: want.memory,
        cpus: want.cpus,
        capabilities: { drop: ["ALL"] },
        security_opts: ["no-new-privileges:true"],
        user: want.user,
        read_only: want.read_only,
        log_driver: "json-file",
        log_opts: LOG_OPTIONS,
        restart: want.restart,
      });
      expect(c!.tmpfs ? Object.keys(c!.tmpfs) : undefined, name).toEqual(want.tmpfs);
    }
  });

  it("sets Swarm limits, a memory reservation, restart policy and rolling updates from the rollout", () => {
    // staging's topology: CPUs as nano-CPUs, MiB as bytes.
    const STAGING_RESOURCES = {
      postgres: { nano_cpus: 2_000_000_000, memory_bytes: 4_294_967_296, user: "999:999", read_only: true },
      redis: { nano_cpus: 500_000_000, memory_bytes: 536_870_912, user: "999:999", read_only: true },
      rabbitmq: { nano_cpus: 1_000_000_000, memory_bytes: 1_073_741_824, user: "999:999", read_only: false },
      migrate: { nano_cpus: 500_000_000, memory_bytes: 536_870_912, user: "1000:1000", read_only: true },
      api: { nano_cpus: 1_000_000_000, memory_bytes: 536_870_912, user: "1000:1000", read_only: true },
      worker: { nano_cpus: 1_000_000_000, memory_bytes: 1_073_741_824, user: "1000:1000", read_only: true },
    } as const;
    expect(stagingTopology.services.map((s) => s.name).sort()).toEqual(Object.keys(STAGING_RESOURCES).sort());
    for (const [name, want] of Object.entries(STAGING_RESOURCES)) {
      const [s] = workloadsOf(staging.json, name);
      expect(s!.task_spec.resources, name).toEqual({
        limits: { nano_cpus: want.nano_cpus, memory_bytes: want.memory_bytes },
        reservation: { memory_bytes: want.memory_bytes },
      });
      expect(s!.task_spec.container_spec).toMatchObject({ cap_drop: ["ALL"], user: want.user, read_only: want.read_only });
      expect(s!.task_spec.log_driver).toEqual({ name: "json-file", options: LOG_OPTIONS });
    }
    // staging's rollout has maxSurge 1: one task at a time, the new one started before the old stops.
    expectResource(staging.text, Service.tfResourceType, {
      name: "jobstack-staging-worker",
      updateConfig: { parallelism: 1, order: "start-first", failureAction: "rollback" },
      rollbackConfig: { failureAction: "pause" },
      taskSpec: { restartPolicy: { condition: "any" } },
    });
  });

  it("puts every replica on the network under its topology name", () => {
    for (const spec of devTopology.services) {
      expect(workloadsOf(dev.json, spec.name)[0]!.networks_advanced).toEqual([{ name: expect.stringMatching(/^\$\{docker_network\./), aliases: [spec.name] }]);
      expect(workloadsOf(staging.json, spec.name)[0]!.task_spec.networks_advanced).toEqual([
        { name: expect.stringMatching(/^\$\{docker_network\..+\.id\}$/), aliases: [spec.name] },
      ]);
    }
  });

  it("creates dependents after their dependencies (and, on a bridge host, after they are healthy)", () => {
    // start period + (interval + timeout) × (retries + 1) + 30 s: dev's checks are 10 s / 3 s with
    // 5 retries, after 20 s (postgres, redis) or 30 s (rabbitmq).
    for (const [name, seconds] of [["postgres", 128], ["redis", 128], ["rabbitmq", 138]] as const) {
      expect(workloadsOf(dev.json, name)[0]).toMatchObject({ wait: true, wait_timeout: seconds });
      expect(workloadsOf(staging.json, name)[0]!.converge_config).toBeDefined();
    }
    const api = workloadsOf(dev.json, "api")[0]!;
    expect(api.depends_on.map((d: string) => d.split(".")[1]!.split("_")[1])).toEqual(["migrate", "postgres", "redis", "rabbitmq"]);
    expect(workloadsOf(staging.json, "worker")[0]!.depends_on).toHaveLength(4);
  });

  it("can be used on its own with Testing.synthScope", () => {
    const text = Testing.synthScope((scope) => {
      const network = new JobNetwork(scope, "network", { name: "jobstack-t", driver: "bridge", labels: {} });
      const images = new Images(scope, "images", { labels: {} });
      const spec = service(devTopology, "postgres");
      const volume = new Volume(scope, "pg", { name: "jobstack-t-postgres-data" });
      const context: DockerContext = {
        mode: "containers",
        prefix: "jobstack-t",
        network,
        secrets: { "postgres-password": "${var.pg}", "redis-password": "${var.r}", "rabbitmq-password": "${var.q}", "api-token": "${var.t}", "operator-token": "${var.o}" },
        rollout: devTopology.rollout,
        labels: {},
      };
      new DockerWorkload(scope, "postgres", { spec, context, image: images.forService(spec), volumes: new Map([["postgres-data", volume]]) });
    });
    expectResource(text, Container.tfResourceType, { name: "jobstack-t-postgres", shmSize: 192 }); // dev's derived /dev/shm
    const [pg] = Object.values(resources(JSON.parse(text) as Json, Container.tfResourceType));
    expect(pg!.env).toContain("POSTGRES_PASSWORD=${var.pg}");
  });

  it("refuses a workload whose volume was not declared", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const network = new JobNetwork(scope, "network", { name: "n", driver: "bridge", labels: {} });
        const spec = service(devTopology, "postgres");
        const context: DockerContext = { mode: "containers", prefix: "n", network, secrets: {} as never, rollout: devTopology.rollout, labels: {} };
        new DockerWorkload(scope, "postgres", { spec, context, image: new Images(scope, "images", { labels: {} }).forService(spec) });
      }),
    ).toThrow(/postgres: volume 'postgres-data' was not declared for it/);
  });
});

describe("ApiService", () => {
  it("runs `api`, publishes only its port, and probes /healthz with node's fetch", () => {
    expectResource(dev.text, Container.tfResourceType, {
      name: "jobstack-dev-api",
      command: ["api"],
      ports: [{ internal: 8080, external: 8080, protocol: "tcp" }],
      healthcheck: {
        test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"],
        interval: "10s",
        timeout: "3s",
        retries: 5, // dev's preset
        startPeriod: "20s",
      },
    });
  });

  it("fills connection URLs from secrets, percent-encoding the passwords", () => {
    const env = envOf(workloadsOf(staging.json, "api")[0]!);
    expect(env.DATABASE_URL).toBe('postgres://jobstack:${replace(urlencode(var.postgres_password), "+", "%20")}@postgres:5432/jobstack');
    expect(env.API_TOKEN).toBe("${var.api_token}");
    expect(env.NODE_OPTIONS).toBe(staging.env.derived.api.node.nodeOptions);
  });
});

describe("WorkerService", () => {
  it("runs `worker` with NODE_OPTIONS and probes /healthz on the unpublished health port", () => {
    const [w] = workloadsOf(dev.json, "worker");
    expect(w!.command).toEqual(["worker"]);
    expect(w!.ports).toBeUndefined();
    expect(w!.healthcheck.test.join(" ")).toContain("http://127.0.0.1:8081/healthz");
    expect(envOf(w!).NODE_OPTIONS).toBe(dev.env.derived.worker.node.nodeOptions);
  });

  it("probes a JVM image with wget or curl and passes JAVA_TOOL_OPTIONS", () => {
    const jvm = synthEnv(
      envFromYaml(
        "jvm",
        `target: docker
tier: dev
preset: dev
docker: { network: { driver: bridge } }
images:
  api: { image: "ghcr.io/example/jobstack:0.1.0" }
  worker: { image: "ghcr.io/example/jobstack-jvm-worker:0.1.0" }
worker: { runtime: jvm }
secrets: { generateDevelopmentSecrets: true }
`,
      ),
    );
    const [w] = workloadsOf(jvm.json, "worker");
    expect(w!.healthcheck.test).toEqual([
      "CMD-SHELL",
      "wget -q -O /dev/null http://127.0.0.1:8081/healthz || curl -fsS -o /dev/null http://127.0.0.1:8081/healthz || exit 1",
    ]);
    expect(w!.command).toBeUndefined();
    expect(w!.user).toBe("10001:10001");
    expect(envOf(w!).JAVA_TOOL_OPTIONS).toBe(jvm.env.derived.worker.jvm.javaToolOptions);
    expect(envOf(w!).NODE_OPTIONS).toBeUndefined();
    expectResource(jvm.text, Image.tfResourceType, { name: "ghcr.io/example/jobstack-jvm-worker:0.1.0" });
  });
});

describe("MigrateTask", () => {
  it("runs once and fails the deploy on a non-zero exit (containers)", () => {
    expectResource(dev.text, Container.tfResourceType, {
      name: "jobstack-dev-migrate",
      command: ["migrate"],
      attach: true,
      mustRun: false,
      restart: "no",
    });
    expect(workloadsOf(dev.json, "migrate")[0]!.lifecycle.postcondition).toEqual([
      { condition: "${self.exit_code == 0}", error_message: expect.stringContaining("non-zero") },
    ]);
    expect(workloadsOf(dev.json, "migrate")[0]!.healthcheck).toBeUndefined();
  });

  it("is a one-replica Swarm service that restarts only on failure and is not awaited", () => {
    expectResource(staging.text, Service.tfResourceType, {
      name: "jobstack-staging-migrate",
      mode: { replicated: { replicas: 1 } },
      taskSpec: { restartPolicy: { condition: "on-failure", maxAttempts: 3 } },
    });
    expect(workloadsOf(staging.json, "migrate")[0]!.converge_config).toBeUndefined();
  });
});

describe("PostgresService", () => {
  it("passes the PGTune flags, sizes /dev/shm, probes with pg_isready and publishes nothing", () => {
    const [pg] = workloadsOf(dev.json, "postgres");
    expect(pg!.command).toEqual(["postgres", ...dev.env.derived.postgres.args]);
    expect(pg!.shm_size).toBe(192); // MiB, dev's derived size
    expect(pg!.healthcheck.test.slice(0, 2)).toEqual(["CMD", "pg_isready"]);
    expect(pg!.ports).toBeUndefined();
    expect(envOf(pg!).POSTGRES_PASSWORD).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
  });

  it("mounts a sized tmpfs at /dev/shm on Swarm, which has no shm_size, and pins itself to the data node", () => {
    const [pg] = workloadsOf(staging.json, "postgres");
    expect(pg!.task_spec.container_spec.mounts).toContainEqual({
      type: "tmpfs",
      target: "/dev/shm",
      tmpfs_options: { size_bytes: 268_435_456, mode: 0o1777 }, // staging's 256 MiB
    });
    expect(pg!.task_spec.placement.constraints).toEqual(["node.labels.jobstack-data == true"]);
    expect(pg!.update_config).toMatchObject({ order: "stop-first", parallelism: 1 });
    expect(pg!.endpoint_spec).toBeUndefined();
  });
});

describe("RedisService", () => {
  it("starts redis-server through a shell for the password, with the derived maxmemory and allkeys-lru", () => {
    const [r] = workloadsOf(dev.json, "redis");
    expect(r!.entrypoint).toEqual(["sh", "-c", 'exec redis-server "$@" --requirepass "$REDISCLI_AUTH"', "redis-server"]);
    expect(r!.command).toEqual(dev.env.derived.redis.args);
    expect(r!.command).toEqual(expect.arrayContaining(["--maxmemory", String(dev.env.derived.redis.maxmemoryBytes), "--maxmemory-policy", "allkeys-lru"]));
    expect(r!.healthcheck.test).toEqual(["CMD", "sh", "-c", "redis-cli ping | grep -q PONG"]);
    expect(envOf(r!).REDISCLI_AUTH).toMatch(/^\$\{random_password\./);
  });

  it("maps entrypoint and command to the Swarm task's command and args", () => {
    const [r] = workloadsOf(staging.json, "redis");
    expect(r!.task_spec.container_spec.command[0]).toBe("sh");
    expect(argsOf(r!)).toEqual(staging.env.derived.redis.args);
  });
});

describe("RabbitmqService", () => {
  it("uploads the derived rabbitmq.conf and fixes the host name (containers)", () => {
    expectResource(dev.text, Container.tfResourceType, {
      name: "jobstack-dev-rabbitmq",
      hostname: "rabbitmq",
      upload: [{ file: "/etc/rabbitmq/conf.d/20-jobstack.conf", content: dev.env.derived.rabbitmq.conf, permissions: "0444" }],
      healthcheck: { test: ["CMD", "rabbitmq-diagnostics", "-q", "ping"] },
    });
  });

  it("ships it as a content-addressed Swarm config, replaced before the old one is removed", () => {
    const configs = Object.values(resources(staging.json, Config.tfResourceType));
    expect(configs).toHaveLength(1);
    const [cfg] = configs;
    expect(cfg!.name).toMatch(/^jobstack-staging-rabbitmq-conf-[0-9a-f]{12}$/);
    expect(Buffer.from(cfg!.data as string, "base64").toString("utf8")).toBe(staging.env.derived.rabbitmq.conf);
    expect(cfg!.lifecycle).toEqual({ create_before_destroy: true });
    const [rmq] = workloadsOf(staging.json, "rabbitmq");
    expect(rmq!.task_spec.container_spec.configs).toEqual([
      expect.objectContaining({ file_name: "/etc/rabbitmq/conf.d/20-jobstack.conf", file_uid: "999", file_gid: "999", file_mode: 0o444 }),
    ]);
    expect(rmq!.task_spec.container_spec.hostname).toBe("rabbitmq");
  });
});

describe("health checks", () => {
  it("turns probes into Docker tests", () => {
    expect(healthTest({ kind: "exec", command: ["pg_isready"] }, "node")).toEqual(["CMD", "pg_isready"]);
    // 30 s start period, then 4 checks (3 retries + 1) of 10 s interval + 3 s timeout, then 30 s to spare.
    expect(healthyWithinSeconds({ liveness: { kind: "exec", command: ["true"] }, readiness: { kind: "exec", command: ["true"] }, intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 30 })).toBe(112);
    expect(healthTest({ kind: "http", path: "/readyz", port: 9 }, "node")[3]).toContain("fetch('http://127.0.0.1:9/readyz')");
    expect(healthTest({ kind: "http", path: "/healthz", port: 9 }, "jvm")[0]).toBe("CMD-SHELL");
    expect(
      dockerHealthcheck({ liveness: { kind: "exec", command: ["true"] }, readiness: { kind: "exec", command: ["true"] }, intervalSeconds: 5, timeoutSeconds: 2, retries: 3, startPeriodSeconds: 0 }, "node"),
    ).toEqual({ test: ["CMD", "true"], interval: "5s", timeout: "2s", retries: 3, startPeriod: "0s" });
  });
});

describe("helpers", () => {
  it("finds the host a published port answers on", () => {
    expect(hostOf("unix:///var/run/docker.sock")).toBe("localhost");
    expect(hostOf("npipe:////./pipe/docker_engine")).toBe("localhost");
    expect(hostOf("tcp://10.0.0.5:2376")).toBe("10.0.0.5");
    expect(hostOf("ssh://deploy@build-host:22")).toBe("build-host");
    expect(hostOf("tcp://[fd00::1]:2376")).toBe("[fd00::1]");
  });

  it("orders services after their dependencies and rejects cycles", () => {
    expect(dependencyOrder(devTopology).map((s) => s.name)).toEqual(["postgres", "redis", "rabbitmq", "migrate", "api", "worker"]);
    const cyclic: Topology = {
      ...devTopology,
      services: devTopology.services.map((s) => (s.name === "postgres" ? { ...s, dependsOn: ["api"] } : s)),
    };
    expect(() => dependencyOrder(cyclic)).toThrow("topology dev has a circular dependency (dependency cycle: postgres → api → migrate → postgres)");
    const dangling: Topology = {
      ...devTopology,
      services: devTopology.services.map((s) => (s.name === "migrate" ? { ...s, dependsOn: ["mysql" as never] } : s)),
    };
    expect(() => dependencyOrder(dangling)).toThrow("topology dev: migrate depends on mysql, which is not a service");
  });
});

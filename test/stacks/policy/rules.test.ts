/**
 * Every rule against real synthesized stacks: the shipped dev (Docker), staging (Swarm) and prod
 * (Kubernetes) are clean, and each test mutates one stack's JSON to break exactly one rule and
 * asserts the complete list of violations — so it also proves no other rule fires.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { k8s, resources, type Json } from "../../../stacks/policy/model.js";
import { checkStacks, RULES, type Rule, type SynthesizedStack, type Violation } from "../../../stacks/policy/registry.js";
import { dataNetwork } from "../../../stacks/policy/rules/data-network.js";
import { dataPersistence } from "../../../stacks/policy/rules/data-persistence.js";
import { dataPorts } from "../../../stacks/policy/rules/data-ports.js";
import { healthCheck } from "../../../stacks/policy/rules/health-check.js";
import { healthEndpoint } from "../../../stacks/policy/rules/health-endpoint.js";
import { hostPortConflict } from "../../../stacks/policy/rules/host-port-conflict.js";
import { imagePinned } from "../../../stacks/policy/rules/image-pinned.js";
import { leastPrivilege } from "../../../stacks/policy/rules/least-privilege.js";
import { redisEviction } from "../../../stacks/policy/rules/redis-eviction.js";
import { resourceLimits } from "../../../stacks/policy/rules/resource-limits.js";
import { noLiteralSecrets } from "../../../stacks/policy/rules/secrets.js";
import { formatViolation } from "../../../stacks/policy/types.js";
import { containerOf, one, synthesizeShipped, workload, type Synthesized } from "./fixtures.js";

let synth: Synthesized;
beforeAll(() => {
  synth = synthesizeShipped();
});
afterAll(() => synth?.cleanup());

const violationsOf = (...stacks: SynthesizedStack[]): Violation[] => checkStacks(stacks).flatMap((r) => r.violations);
const v = (rule: Rule, stack: string, resource: string, message: string, fix = rule.fix): Violation => ({ stack, resource, rule: rule.id, message, fix });
const resourceBy = (stack: SynthesizedStack, type: string, pred: (body: Json) => boolean): { address: string; body: Json } => {
  const r = resources(stack, type).find((x) => pred(x.body));
  if (!r) throw new Error(`no ${type} matching in ${stack.name}`);
  return r;
};
const named = (name: string) => (b: Json) => one(b.metadata).name === name;

describe("the shipped environments", () => {
  it("synthesize to dev (Docker), staging (Swarm) and prod (Kubernetes) stacks with every service", () => {
    expect([...synth.stacks.keys()]).toEqual(["dev", "prod", "staging"]);
    for (const s of synth.stacks.values()) {
      for (const role of ["api", "worker", "migrate", "postgres", "redis", "rabbitmq"] as const) expect(workload(s, role).role).toBe(role);
    }
    expect(workload(synth.stacks.get("dev")!, "api").kind).toBe("docker_container");
    expect(workload(synth.stacks.get("staging")!, "api").kind).toBe("docker_service");
    expect(workload(synth.stacks.get("prod")!, "postgres").kind).toBe("stateful_set");
  });

  it("pass every rule, together (cross-stack checks included)", () => {
    expect(violationsOf(...synth.stacks.values()).map(formatViolation)).toEqual([]);
  });

  it("every rule has an id, a rationale and a fix", () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(r.rationale.length).toBeGreaterThan(20);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });
});

describe("health-check", () => {
  it("Docker: a container without a healthcheck", () => {
    const s = synth.copy("dev");
    delete containerOf(s, "worker").healthcheck;
    expect(violationsOf(s)).toEqual([v(healthCheck, "dev", workload(s, "worker").where, "worker has no healthcheck")]);
  });
  it("Swarm: a disabled healthcheck", () => {
    const s = synth.copy("staging");
    one(containerOf(s, "postgres").healthcheck).test = ["NONE"];
    expect(violationsOf(s)).toEqual([v(healthCheck, "staging", workload(s, "postgres").where, 'postgres disables its healthcheck (test = ["NONE"])')]);
  });
  it("Kubernetes: a container without a readiness probe", () => {
    const s = synth.copy("prod");
    delete containerOf(s, "redis").readiness_probe;
    expect(violationsOf(s)).toEqual([v(healthCheck, "prod", workload(s, "redis").where, "redis has no readiness_probe")]);
  });
});

describe("health-endpoint", () => {
  it("Docker: the api's healthcheck requests /", () => {
    const s = synth.copy("dev");
    one(containerOf(s, "api").healthcheck).test = ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"];
    expect(violationsOf(s)).toEqual([v(healthEndpoint, "dev", workload(s, "api").where, "api: healthcheck requests / (wget -qO- http://127.0.0.1:8080/)")]);
  });
  it("Kubernetes: the api's readiness probe requests /", () => {
    const s = synth.copy("prod");
    one(one(containerOf(s, "api").readiness_probe).http_get).path = "/";
    expect(violationsOf(s)).toEqual([v(healthEndpoint, "prod", workload(s, "api").where, "api: readiness_probe requests /")]);
  });
});

describe("redis-eviction", () => {
  it("Docker: maxmemory-policy noeviction", () => {
    const s = synth.copy("dev");
    const c = containerOf(s, "redis");
    c.command = (c.command as string[]).map((a) => (a === "allkeys-lru" ? "noeviction" : a));
    expect(violationsOf(s)).toEqual([v(redisEviction, "dev", workload(s, "redis").where, "redis runs with maxmemory-policy noeviction, not allkeys-lru")]);
  });
  it("Kubernetes: maxmemory above the container's memory limit", () => {
    const s = synth.copy("prod");
    const c = containerOf(s, "redis");
    const args = c.args as string[];
    args[args.indexOf("--maxmemory") + 1] = "4gb";
    expect(violationsOf(s)).toEqual([
      v(redisEviction, "prod", workload(s, "redis").where, "redis maxmemory (4294967296 bytes) is not below its container memory limit (2147483648 bytes)"),
    ]);
  });
  it("Swarm: no maxmemory-policy at all", () => {
    const s = synth.copy("staging");
    const c = containerOf(s, "redis");
    const args = c.args as string[];
    args.splice(args.indexOf("--maxmemory-policy"), 2);
    expect(violationsOf(s)).toEqual([v(redisEviction, "staging", workload(s, "redis").where, "redis sets no maxmemory-policy (Redis defaults to noeviction)")]);
  });
});

describe("data-ports", () => {
  it("Docker: postgres publishes a host port", () => {
    const s = synth.copy("dev");
    containerOf(s, "postgres").ports = [{ internal: 5432, external: 5432 }];
    expect(violationsOf(s)).toEqual([v(dataPorts, "dev", workload(s, "postgres").where, "postgres publishes host port 5432 → 5432/tcp (ports)")]);
  });
  it("Swarm: rabbitmq gets an endpoint_spec port", () => {
    const s = synth.copy("staging");
    workload(s, "rabbitmq").resource.body.endpoint_spec = { ports: [{ target_port: 5672, published_port: 5672 }] };
    expect(violationsOf(s)).toEqual([v(dataPorts, "staging", workload(s, "rabbitmq").where, "rabbitmq publishes host port 5672 → 5672/tcp (endpoint_spec (ingress))")]);
  });
  it("Kubernetes: the redis Service becomes a NodePort", () => {
    const s = synth.copy("prod");
    const svc = resourceBy(s, "kubernetes_service_v1", named("redis"));
    one(svc.body.spec).type = "NodePort";
    delete one(svc.body.spec).cluster_ip;
    expect(violationsOf(s)).toEqual([v(dataPorts, "prod", svc.address, "Service for redis has type NodePort", "make the data services' Services type ClusterIP")]);
  });
});

describe("data-network", () => {
  it("Docker: redis joins a network that is not the environment's", () => {
    const s = synth.copy("dev");
    containerOf(s, "redis").networks_advanced = [{ name: "bridge" }];
    expect(violationsOf(s)).toEqual([v(dataNetwork, "dev", workload(s, "redis").where, 'redis is attached to network "bridge", which is not this environment\'s network')]);
  });
  it("Swarm: postgres is attached to no network", () => {
    const s = synth.copy("staging");
    delete one(workload(s, "postgres").resource.body.task_spec).networks_advanced;
    expect(violationsOf(s)).toEqual([v(dataNetwork, "staging", workload(s, "postgres").where, "postgres is attached to no dedicated network (it lands on Docker's default bridge)")]);
  });
  it("Kubernetes: the default-deny NetworkPolicy is missing", () => {
    const s = synth.copy("prod");
    const deny = resourceBy(s, "kubernetes_network_policy_v1", named("default-deny"));
    delete s.json.resource!.kubernetes_network_policy_v1![deny.address.split(".")[1]!];
    expect(violationsOf(s)).toEqual([
      v(dataNetwork, "prod", "*", 'no default-deny NetworkPolicy (empty pod_selector, policy_types ["Ingress"], no ingress rules) in namespace jobstack-prod', "add a kubernetes_network_policy_v1 that selects every pod and allows no ingress, then allow the app pods explicitly"),
    ]);
  });
  it("Kubernetes: a policy opens postgres to everyone", () => {
    const s = synth.copy("prod");
    const p = resources(s, ...k8s("network_policy")).find((r) => JSON.stringify(one(one(r.body.spec).pod_selector)).includes('"postgres"') && one(r.body.spec).ingress)!;
    delete (one(p.body.spec).ingress as Json[])[0]!.from;
    expect(violationsOf(s)).toEqual([v(dataNetwork, "prod", p.address, "allows ingress to postgres from anywhere (a rule without `from`)", "list the app pods in `from.pod_selector`")]);
  });
  it("Kubernetes: a policy admits redis traffic from another namespace", () => {
    const s = synth.copy("prod");
    const p = resources(s, ...k8s("network_policy")).find((r) => JSON.stringify(one(one(r.body.spec).pod_selector)).includes('"redis"') && one(r.body.spec).ingress)!;
    ((one(p.body.spec).ingress as Json[])[0]!.from as Json[]).push({ namespace_selector: {} });
    expect(violationsOf(s)).toEqual([v(dataNetwork, "prod", p.address, "allows ingress to redis from outside the namespace (ip_block or namespace_selector)", "allow only the app pods (`from.pod_selector`)")]);
  });
});

describe("image-pinned", () => {
  it("Docker: redis:latest (the docker_image and the container using it)", () => {
    const s = synth.copy("dev");
    const img = resourceBy(s, "docker_image", (b) => String(b.name).startsWith("redis:"));
    img.body.name = "redis:latest";
    expect(violationsOf(s)).toEqual([
      v(imagePinned, "dev", workload(s, "redis").where, 'redis image "redis:latest" uses the latest tag'),
      v(imagePinned, "dev", img.address, 'image "redis:latest" uses the latest tag'),
    ]);
  });
  it("Kubernetes: an image without a tag; a digest is accepted", () => {
    const s = synth.copy("prod");
    containerOf(s, "worker").image = "ghcr.io/example/jobstack";
    containerOf(s, "api").image = `ghcr.io/example/jobstack@sha256:${"a".repeat(64)}`;
    expect(violationsOf(s)).toEqual([v(imagePinned, "prod", workload(s, "worker").where, 'worker image "ghcr.io/example/jobstack" has no tag (means :latest)')]);
  });
});

describe("resource-limits", () => {
  it("Docker: the api without a memory limit", () => {
    const s = synth.copy("dev");
    delete containerOf(s, "api").memory;
    delete containerOf(s, "api").memory_swap;
    expect(violationsOf(s)).toEqual([v(resourceLimits, "dev", workload(s, "api").where, "api has no memory limit")]);
  });
  it("Swarm: the migration task without limits", () => {
    const s = synth.copy("staging");
    delete one(one(workload(s, "migrate").resource.body.task_spec).resources).limits;
    expect(violationsOf(s)).toEqual([v(resourceLimits, "staging", workload(s, "migrate").where, "migrate has no memory and no CPU limit")]);
  });
  it("Kubernetes: the worker without a CPU limit", () => {
    const s = synth.copy("prod");
    delete one(one(containerOf(s, "worker").resources).limits).cpu;
    expect(violationsOf(s)).toEqual([v(resourceLimits, "prod", workload(s, "worker").where, "worker has no CPU limit")]);
  });
});

describe("no-literal-secrets", () => {
  it("Docker: a literal API_TOKEN", () => {
    const s = synth.copy("dev");
    const c = containerOf(s, "api");
    c.env = (c.env as string[]).map((e) => (e.startsWith("API_TOKEN=") ? "API_TOKEN=correct-horse-battery-staple" : e));
    expect(violationsOf(s)).toEqual([v(noLiteralSecrets, "dev", workload(s, "api").where, "api: env API_TOKEN is a literal")]);
  });
  it("Swarm: a literal password inside DATABASE_URL", () => {
    const s = synth.copy("staging");
    (containerOf(s, "worker").env as Json).DATABASE_URL = "postgres://jobstack:hunter2hunter2@postgres:5432/jobstack";
    expect(violationsOf(s)).toEqual([v(noLiteralSecrets, "staging", workload(s, "worker").where, "worker: the password in env DATABASE_URL is a literal")]);
  });
  it("Kubernetes: a literal in the Secret, and a value instead of a secret_key_ref", () => {
    const s = synth.copy("prod");
    const secret = resources(s, "kubernetes_secret_v1").find((r) => r.body.type !== "kubernetes.io/tls")!;
    (secret.body.data as Json)["redis-password"] = "hunter2hunter2hunter2";
    const env = containerOf(s, "postgres").env as Json[];
    const pw = env.find((e) => e.name === "POSTGRES_PASSWORD")!;
    delete pw.value_from;
    pw.value = "hunter2hunter2hunter2";
    expect(violationsOf(s)).toEqual([
      v(noLiteralSecrets, "prod", workload(s, "postgres").where, "postgres: env POSTGRES_PASSWORD is a literal"),
      v(noLiteralSecrets, "prod", secret.address, "data.redis-password is a literal"),
    ]);
  });
  it("Kubernetes: a secret variable that is not sensitive", () => {
    const s = synth.copy("prod");
    delete s.json.variable!.api_token!.sensitive;
    const secret = resources(s, "kubernetes_secret_v1").find((r) => (r.body.metadata as { name?: string }).name === "jobstack-secrets")!;
    expect(violationsOf(s)).toEqual([
      v(noLiteralSecrets, "prod", secret.address, "data.api-token comes from var.api_token, which is not declared sensitive"),
      v(noLiteralSecrets, "prod", "var.api_token", "looks like a secret but is not declared sensitive", "declare it with `sensitive: true`"),
    ]);
  });
});

describe("no-literal-secrets in config files", () => {
  it("Kubernetes: a password in a ConfigMap", () => {
    const s = synth.copy("prod");
    const cm = resources(s, "kubernetes_config_map_v1").find((r) => (r.body.metadata as { name?: string }).name === "rabbitmq-conf")!;
    const data = cm.body.data as Record<string, string>;
    const file = Object.keys(data)[0]!;
    data[file] += "default_pass = guest\n";
    expect(violationsOf(s)).toEqual([
      v(noLiteralSecrets, "prod", cm.address, `${file} sets default_pass in a ConfigMap, which is stored unencrypted`, "move it to the Secret and pass it as an environment variable (secret_key_ref)"),
    ]);
  });
  it("Swarm: a password in a Docker config", () => {
    const s = synth.copy("staging");
    const cfg = resources(s, "docker_config")[0]!;
    cfg.body.data = Buffer.from(`${Buffer.from(String(cfg.body.data), "base64").toString("utf8")}default_pass = guest\n`).toString("base64");
    expect(violationsOf(s)).toEqual([
      v(noLiteralSecrets, "staging", cfg.address, "sets default_pass in a Docker config, which is stored unencrypted", "pass it as an environment variable from a sensitive variable"),
    ]);
  });
});

describe("data-persistence", () => {
  it("Docker: the postgres volume without prevent_destroy", () => {
    const s = synth.copy("dev");
    const vol = resourceBy(s, "docker_volume", (b) => String(b.name).endsWith("postgres-data"));
    delete vol.body.lifecycle;
    expect(violationsOf(s)).toEqual([
      v(dataPersistence, "dev", vol.address, "volume of postgres (/var/lib/postgresql/data) has no lifecycle.prevent_destroy", "set `lifecycle: { preventDestroy: true }` on the docker_volume"),
    ]);
  });
  it("Swarm: rabbitmq without a named volume", () => {
    const s = synth.copy("staging");
    const c = containerOf(s, "rabbitmq");
    c.mounts = (c.mounts as Json[]).filter((m) => m.type !== "volume");
    expect(violationsOf(s)).toEqual([v(dataPersistence, "staging", workload(s, "rabbitmq").where, "rabbitmq keeps its data on no named volume")]);
  });
  it("Kubernetes: a StatefulSet without its volume_claim_template", () => {
    const s = synth.copy("prod");
    const w = workload(s, "postgres");
    delete one(w.resource.body.spec).volume_claim_template;
    expect(violationsOf(s)).toEqual([v(dataPersistence, "prod", w.where, "postgres mounts none of its StatefulSet's volume_claim_templates")]);
  });
});

describe("least-privilege", () => {
  it("Docker: capabilities not dropped", () => {
    const s = synth.copy("dev");
    delete containerOf(s, "worker").capabilities;
    expect(violationsOf(s)).toEqual([v(leastPrivilege, "dev", workload(s, "worker").where, "worker does not drop ALL capabilities")]);
  });
  it("Swarm: postgres runs as root", () => {
    const s = synth.copy("staging");
    containerOf(s, "postgres").user = "0:0";
    expect(violationsOf(s)).toEqual([
      v(leastPrivilege, "staging", workload(s, "postgres").where, "postgres runs as user 0:0", "run as the image's non-root user (Docker `user`, Kubernetes `run_as_non_root: true` and `run_as_user`)"),
    ]);
  });
  it("Kubernetes: the api with run_as_user 0", () => {
    const s = synth.copy("prod");
    const w = workload(s, "api");
    const sec = one(containerOf(s, "api").security_context);
    sec.run_as_user = "0";
    sec.run_as_non_root = false;
    expect(violationsOf(s)).toEqual([
      v(leastPrivilege, "prod", w.where, "api runs with run_as_user 0", "run as the image's non-root user (Docker `user`, Kubernetes `run_as_non_root: true` and `run_as_user`)"),
    ]);
  });
});

describe("host-port-conflict", () => {
  it("one stack: two containers publish the same host port", () => {
    const s = synth.copy("dev");
    containerOf(s, "worker").ports = [{ internal: 8081, external: 8080, protocol: "tcp" }];
    expect(violationsOf(s)).toEqual([v(hostPortConflict, "dev", workload(s, "worker").where, `host port 8080/tcp is also published by ${workload(s, "api").where}`)]);
  });
  it("one stack: different addresses or protocols do not conflict", () => {
    const s = synth.copy("dev");
    (containerOf(s, "api").ports as Json[])[0]!.ip = "127.0.0.1";
    containerOf(s, "worker").ports = [{ internal: 8081, external: 8080, ip: "127.0.0.2" }, { internal: 8081, external: 8080, protocol: "udp" }];
    expect(violationsOf(s)).toEqual([]);
  });
  it("across stacks: two environments publish 8080 on the same Docker host", () => {
    const dev = synth.copy("dev");
    const staging = synth.copy("staging");
    (staging.json.provider!.docker as Json[])[0]!.host = "unix:///var/run/docker.sock";
    delete (staging.json.provider!.docker as Json[])[0]!.cert_path;
    expect(violationsOf(dev, staging)).toEqual([
      v(hostPortConflict, "dev", workload(dev, "api").where, `host port 8080/tcp on unix:///var/run/docker.sock is also published by staging/${workload(staging, "api").where}`),
      v(hostPortConflict, "staging", workload(staging, "api").where, `host port 8080/tcp on unix:///var/run/docker.sock is also published by dev/${workload(dev, "api").where}`),
    ]);
  });
});

describe("output format", () => {
  it("prints stack/resource: rule-id — message (fix: …)", () => {
    expect(formatViolation(v(healthCheck, "dev", "docker_container.x", "worker has no healthcheck"))).toBe(
      `dev/docker_container.x: health-check — worker has no healthcheck (fix: ${healthCheck.fix})`,
    );
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { JobStack } from "../../../stacks/job-stack.js";
import { dependencyOrder } from "../../../stacks/topology.js";
import { environmentVariant, prod, resourceNamed, resources, synthEnvironment, workloads } from "./support.js";

const json = synthEnvironment(prod().env);
const ref = (type: string, name: string) => `${type}.${resourceNamed(json, type, name).id}`;

describe("KubernetesSystem (prod)", () => {
  it("matches the snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  it("configures the provider from the environment's kubeconfig", () => {
    expect(json.provider.kubernetes).toEqual([{ config_path: "~/.kube/config", config_context: "prod" }]);
  });

  it("creates the environment's namespace, enforcing the restricted Pod Security Standard, and puts everything in it", () => {
    const [ns] = resources(json, "kubernetes_namespace_v1");
    expect(ns!.body.metadata.name).toBe("jobstack-prod");
    expect(ns!.body.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const nsRef = `\${kubernetes_namespace_v1.${ns!.id}.metadata[0].name}`;
    for (const [type, group] of Object.entries(json.resource as Record<string, Record<string, { metadata?: { namespace?: string } }>>)) {
      if (type === "kubernetes_namespace_v1" || type === "random_password") continue;
      for (const [id, body] of Object.entries(group)) expect(body.metadata?.namespace, `${type}.${id}`).toBe(nsRef);
    }
  });

  it("outputs the namespace and the api Service name", () => {
    expect(json.output.namespace.value).toMatch(/^\$\{kubernetes_namespace_v1\.[^.]+\.metadata\[0\]\.name\}$/);
    expect(json.output.api_service_name.value).toBe(`\${${ref("kubernetes_service_v1", "api")}.metadata[0].name}`);
  });

  it("brings up data services, then migrates, then starts the api and workers", () => {
    const job = resourceNamed(json, "kubernetes_job_v1", "migrate").body;
    expect(job.depends_on).toEqual([ref("kubernetes_stateful_set_v1", "postgres")]);
    for (const name of ["api", "worker"]) {
      const deps = resourceNamed(json, "kubernetes_deployment_v1", name).body.depends_on as string[];
      expect(deps).toContain(ref("kubernetes_job_v1", "migrate"));
      for (const data of ["postgres", "redis", "rabbitmq"]) expect(deps).toContain(ref("kubernetes_stateful_set_v1", data));
    }
  });

  it("uses stable kebab-case construct ids", () => {
    const stack = new JobStack(Testing.app(), "prod", prod().env);
    const system = stack.node.findChild("system");
    const ids = system.node.findAll().slice(1).map((c) => c.node.path.slice(system.node.path.length + 1));
    expect(ids.length).toBeGreaterThan(30);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+(\/[a-z0-9-]+)*$/);
  });

  it("requires sensitive variables for prod, and generates secrets for a dev-tier cluster that asks", () => {
    // The five system secrets, and the Ingress certificate (prod: tlsSecretSource variables).
    expect(Object.keys(json.variable).sort()).toEqual(["api_token", "operator_token", "postgres_password", "rabbitmq_password", "redis_password", "tls_certificate", "tls_private_key"]);
    const dev = synthEnvironment(
      environmentVariant("prod", "kind-dev", (doc) => {
        doc.tier = "dev";
        doc.secrets = { generateDevelopmentSecrets: true };
        doc.backend = { type: "local" };
        delete doc.kubernetes.ingress;
      }, "dev"),
    );
    expect(dev.variable).toBeUndefined();
    // The five secrets (four passwords and the operator token), and the RabbitMQ cluster's Erlang cookie.
    expect(resources(dev, "random_password")).toHaveLength(6);
    expect(resources(dev, "kubernetes_ingress_v1")).toHaveLength(0);
    expect(workloads(dev)).toHaveLength(6);
  });
});

describe("dependencyOrder", () => {
  it("puts every service after its dependencies", () => {
    const order = dependencyOrder({ ...prod().topology, services: [...prod().topology.services].reverse() }).map((s) => s.name);
    expect(order.indexOf("postgres")).toBeLessThan(order.indexOf("migrate"));
    expect(order.indexOf("migrate")).toBeLessThan(order.indexOf("api"));
    expect(order.indexOf("migrate")).toBeLessThan(order.indexOf("worker"));
  });

  it("reports a cycle with its path", () => {
    const services = prod().topology.services.map((s) => (s.name === "postgres" ? { ...s, dependsOn: ["api" as const] } : s));
    expect(() => dependencyOrder({ ...prod().topology, services })).toThrow(/dependency cycle: .*postgres → api → .*postgres|dependency cycle: .*api → .*postgres → api/);
  });
});

describe("imports", () => {
  it("takes provider classes from deep paths only, never a package root", () => {
    const dir = join(import.meta.dirname, "../../../stacks/kubernetes");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(join(dir, file), "utf8");
      expect(source, file).not.toMatch(/from\s+["']@cdktf\/provider-[a-z]+["']/);
      expect(source, file).not.toMatch(/import\(\s*["']@cdktf\/provider-[a-z]+["']\s*\)/);
    }
  });
});

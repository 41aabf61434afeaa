/**
 * The api reads unacknowledged messages from RabbitMQ's management API (docs/metrics.md), so every
 * stack with a bundled RabbitMQ hands the api RABBITMQ_MANAGEMENT_URL from its secret source, with
 * the password encoded as in AMQP_URL; the worker gets nothing of it; on Kubernetes only the api
 * may reach rabbitmq:15672; RabbitMQ still publishes no host port. An external RabbitMQ leaves the
 * variable unset (unacked stays null). Checked on the synthesized dev (Docker), staging (Swarm)
 * and prod (Kubernetes) stacks, for the policy rules too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkStacks, formatViolation } from "../../stacks/policy/registry.js";
import type { SynthesizedStack } from "../../stacks/policy/types.js";
import { containerOf, synthesizeShipped, workload, type Synthesized } from "./policy/fixtures.js";
import { environmentVariant, policyEdges, resourceNamed, synthEnvironment, type Json } from "./kubernetes/support.js";

const MANAGEMENT_URL = /^http:\/\/jobstack:(.+)@rabbitmq:15672$/;
const AMQP_URL = /^amqp:\/\/jobstack:(.+)@rabbitmq:5672$/;

let synth: Synthesized;
beforeAll(() => {
  synth = synthesizeShipped({ envs: ["dev", "staging", "prod"] });
});
afterAll(() => synth?.cleanup());

/** A container's environment as the process sees it, secret-sourced values filled in from the stack's Secret. */
function environment(stack: SynthesizedStack, role: "api" | "worker" | "rabbitmq"): Record<string, string> {
  const c = containerOf(stack, role);
  if (Array.isArray(c.env) && c.env.length > 0 && typeof c.env[0] === "string") {
    return Object.fromEntries((c.env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  }
  if (!Array.isArray(c.env)) return (c.env ?? {}) as Record<string, string>; // a Swarm task's map
  const data = resourceNamed(stack.json, "kubernetes_secret_v1", "jobstack-secrets").body.data as Record<string, string>;
  return Object.fromEntries(
    (c.env as Json[]).map((e) => {
      // On Kubernetes a secret value must come from the Secret, never be written into the pod.
      if (e.name === "RABBITMQ_MANAGEMENT_URL" || e.name === "AMQP_URL") expect(e.value, e.name).toBeUndefined();
      return [e.name, e.value ?? data[e.value_from.secret_key_ref.key]];
    }),
  );
}

describe.each(["dev", "staging", "prod"])("%s: RABBITMQ_MANAGEMENT_URL", (name) => {
  it("is the api's, from the same secret and encoding as AMQP_URL's password", () => {
    const env = environment(synth.copy(name), "api");
    const management = MANAGEMENT_URL.exec(env.RABBITMQ_MANAGEMENT_URL ?? "");
    const amqp = AMQP_URL.exec(env.AMQP_URL ?? "");
    expect(management, env.RABBITMQ_MANAGEMENT_URL).not.toBeNull();
    expect(amqp, env.AMQP_URL).not.toBeNull();
    // A Terraform expression over the rabbitmq password (variable or generated), never a literal.
    expect(management![1]).toMatch(/^\$\{replace\(urlencode\((var\.rabbitmq_password|random_password\.[^)]*rabbitmq-password[^)]*\.result)\), "\+", "%20"\)\}$/);
    expect(management![1]).toBe(amqp![1]);
  });

  it("is not the worker's", () => {
    const env = environment(synth.copy(name), "worker");
    expect(env.AMQP_URL).toMatch(AMQP_URL); // read from the right container
    expect(env.RABBITMQ_MANAGEMENT_URL).toBeUndefined();
  });

  it("leaves RabbitMQ unpublished, and every policy rule passes", () => {
    const stack = synth.copy(name);
    // Host ports, Swarm endpoint_spec ports, host_port: what the data-ports rule reads.
    expect(workload(stack, "rabbitmq").published).toEqual([]);
    const violations = checkStacks([stack]).flatMap((r) => r.violations).map(formatViolation);
    expect(violations).toEqual([]);
  });
});

describe("prod (Kubernetes): the management port", () => {
  it("admits exactly api → rabbitmq:15672, on both ends", () => {
    const edges = policyEdges(synth.copy("prod").json);
    expect([...edges.ingress].filter((e) => e.includes(":15672/"))).toEqual(["api->rabbitmq:15672/TCP"]);
    expect([...edges.egress].filter((e) => e.includes(":15672/"))).toEqual(["api->rabbitmq:15672/TCP"]);
  });

  it("is on the rabbitmq Service the api dials, as ClusterIP", () => {
    const svc = resourceNamed(synth.copy("prod").json, "kubernetes_service_v1", "rabbitmq").body.spec;
    expect(svc.type).toBe("ClusterIP");
    expect(svc.port).toContainEqual({ name: "management", port: 15672, target_port: "management", protocol: "TCP" });
  });
});

describe("prod with an external RabbitMQ", () => {
  const json = synthEnvironment(
    environmentVariant("prod", "prod-ext-rabbitmq", (doc) => {
      doc.external = { rabbitmq: { host: "mq.internal.example.com", vhost: "/jobs", user: "svc_jobs" } };
      delete doc.rabbitmq;
    }),
  );
  const stack: SynthesizedStack = { name: "prod-ext-rabbitmq", file: "prod-ext-rabbitmq/cdk.tf.json", json };

  it("sets no RABBITMQ_MANAGEMENT_URL (unacked stays null) and opens no 15672", () => {
    expect(environment(stack, "api").RABBITMQ_MANAGEMENT_URL).toBeUndefined();
    expect(Object.keys(resourceNamed(json, "kubernetes_secret_v1", "jobstack-secrets").body.data)).not.toContain("rabbitmq-management-url");
    const edges = policyEdges(json);
    expect([...edges.ingress, ...edges.egress].filter((e) => e.includes("15672"))).toEqual([]);
  });
});

/**
 * Synthesis helpers for the Docker target's tests: a resolved environment in, the stack's
 * Terraform JSON out (as a string for cdktf's matchers, and parsed for our own assertions).
 */
import { Testing } from "cdktf";
import { expect } from "vitest";
import { loadEnvironment } from "../../../stacks/config/index.js";
import { synthEnv, type Json, type Synthesized } from "../support.js";

export { envFromYaml, synthEnv, type Json, type Synthesized } from "../support.js";

export function synthNamed(name: string, preset?: string): Synthesized {
  return synthEnv(loadEnvironment(name, preset));
}

/** All resources of one type, keyed by Terraform name. */
export function resources(json: Json, type: string): Record<string, Json> {
  return (json.resource?.[type] ?? {}) as Record<string, Json>;
}

/** The value of a label in a provider label list (`[{label, value}]`). */
export function label(body: Json, key: string): string | undefined {
  return (body.labels as { label: string; value: string }[] | undefined)?.find((l) => l.label === key)?.value;
}

/** Containers (bridge) or services (Swarm) of one topology service, by their service label. */
export function workloadsOf(json: Json, service: string): Json[] {
  const containers = Object.values(resources(json, "docker_container")).filter((c) => label(c, "com.jobstack.service") === service);
  const services = Object.values(resources(json, "docker_service")).filter((s) => label(s, "com.jobstack.service") === service);
  return [...containers, ...services];
}

/** Environment of a container (`K=V` list) or a Swarm task (map), as a map. */
export function envOf(workload: Json): Record<string, string> {
  const spec = workload.task_spec?.container_spec;
  if (spec) return (spec.env ?? {}) as Record<string, string>;
  return Object.fromEntries(((workload.env ?? []) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

export function healthcheckOf(workload: Json): Json | undefined {
  return (workload.task_spec?.container_spec?.healthcheck ?? workload.healthcheck) as Json | undefined;
}

/** Server arguments: `command` of a container, `args` of a Swarm task. */
export function argsOf(workload: Json): string[] {
  return (workload.task_spec?.container_spec?.args ?? workload.command ?? []) as string[];
}

/** `expect(Testing.toHaveResourceWithProperties(...))` with a readable failure. */
export function expectResource(text: string, type: string, properties: Record<string, unknown>): void {
  expect(Testing.toHaveResourceWithProperties(text, type, properties), `${type} with ${JSON.stringify(properties)}`).toBe(true);
}

/** A Terraform reference such as `${var.x}` or `${urlencode(random_password.y.result)}`. */
export const REFERENCE = /^\$\{[^}]+\}$/;

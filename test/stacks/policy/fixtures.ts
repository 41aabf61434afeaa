/**
 * Test support: synthesize the shipped environments once per test file, then hand out deep
 * copies of their Terraform JSON for a test to mutate.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironments } from "../../../stacks/config/index.js";
import { loadSynthOutput } from "../../../stacks/policy/load.js";
import { workloads, type Json, type Role, type Workload } from "../../../stacks/policy/model.js";
import type { SynthesizedStack } from "../../../stacks/policy/types.js";
import { synthesize } from "../../../stacks/synth.js";

export interface Synthesized {
  readonly dir: string;
  readonly stacks: ReadonlyMap<string, SynthesizedStack>;
  /** A deep copy of one stack, safe to mutate. */
  copy(name: string): SynthesizedStack;
  cleanup(): void;
}

export function synthesizeShipped(selection: { envs?: string[]; preset?: string } = {}): Synthesized {
  const dir = mkdtempSync(join(tmpdir(), "jobstack-policy-test-"));
  synthesize(loadEnvironments(selection), dir);
  const stacks = new Map(loadSynthOutput(dir).map((s) => [s.name, s]));
  return {
    dir,
    stacks,
    copy(name) {
      const s = stacks.get(name);
      if (!s) throw new Error(`no stack ${name}`);
      return structuredClone(s);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The workload of a role (its container, in a Kubernetes pod) in a stack. */
export function workload(stack: SynthesizedStack, role: Role): Workload {
  const w = workloads(stack).find((x) => x.role === role && !x.init);
  if (!w) throw new Error(`${stack.name} has no ${role} workload`);
  return w;
}

/** The container body of a role's workload: Docker resource, Swarm container_spec, or pod container. */
export function containerOf(stack: SynthesizedStack, role: Role): Json {
  const w = workload(stack, role);
  const body = w.resource.body;
  if (w.kind === "docker_container") return body;
  if (w.kind === "docker_service") return one(one(body.task_spec).container_spec);
  const spec = w.kind === "pod" ? body : one(one(one(body.spec).template).spec);
  return (spec.container as Json[]).find((c) => c.name === w.container)!;
}

/** The single object of a block cdktf wrote as an object or a one-element array. */
export function one(v: unknown): Json {
  const b = Array.isArray(v) ? v[0] : v;
  if (typeof b !== "object" || b === null) throw new Error(`not a block: ${JSON.stringify(v)}`);
  return b as Json;
}

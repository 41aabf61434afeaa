/**
 * Synthesis helpers shared by the Docker, Kubernetes and parity tests: a resolved environment
 * in, the stack's Terraform JSON out; and environments resolved from YAML text, so a test's
 * variant of an environment needs no file on disk.
 */
import { Testing } from "cdktf";
import { resolveEnvironmentSource, type ResolvedEnvironment } from "../../stacks/config/index.js";
import { parseYaml } from "../../config-files/yaml.js";
import { JobStack } from "../../stacks/job-stack.js";

// Terraform JSON is untyped; tests narrow what they read.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface Synthesized {
  readonly env: ResolvedEnvironment;
  readonly stack: JobStack;
  /** cdk.tf.json as Testing.synth returns it. */
  readonly text: string;
  readonly json: Json;
}

export function synthEnv(env: ResolvedEnvironment): Synthesized {
  const app = Testing.app();
  const stack = new JobStack(app, env.name, env);
  const text = Testing.synth(stack);
  return { env, stack, text, json: JSON.parse(text) as Json };
}

/** Resolves an environment from YAML text with the shipped presets. */
export function envFromYaml(name: string, yaml: string, preset?: string): ResolvedEnvironment {
  return resolveEnvironmentSource(name, parseYaml(yaml, `${name}.yaml`), preset ? { presetOverride: preset } : {});
}

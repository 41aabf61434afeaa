/**
 * In-process synthesis for tools and tests: writes `<outdir>/stacks/<env>/cdk.tf.json` for the
 * given resolved environments, exactly as `cdktf synth` would, without spawning the CLI.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import type { ResolvedEnvironment } from "./config/resolve.js";
import { JobStack } from "./job-stack.js";

export function synthesize(environments: readonly ResolvedEnvironment[], outdir: string): string {
  const app = new App({ outdir, skipValidation: false });
  for (const env of environments) new JobStack(app, env.name, env);
  app.synth();
  return outdir;
}

/** Path of one stack's Terraform JSON inside a synth output folder. */
export function stackJsonPath(outdir: string, stack: string): string {
  return join(outdir, "stacks", stack, "cdk.tf.json");
}

export function readStackJson(outdir: string, stack: string): Record<string, unknown> {
  return JSON.parse(readFileSync(stackJsonPath(outdir, stack), "utf8")) as Record<string, unknown>;
}

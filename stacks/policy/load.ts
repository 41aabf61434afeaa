/**
 * Reads a synth output folder (`cdktf.out`): every `stacks/<name>/cdk.tf.json`, sorted by name.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SynthesizedStack, TerraformJson } from "./types.js";

export class SynthOutputError extends Error {
  override readonly name = "SynthOutputError";
}

export function loadSynthOutput(outdir: string, only?: readonly string[]): SynthesizedStack[] {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir)) throw new SynthOutputError(`${outdir} holds no synthesized stacks (no ${stacksDir}); run \`npx cdktf synth\` first`);
  const names = readdirSync(stacksDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(stacksDir, d.name, "cdk.tf.json")))
    .map((d) => d.name)
    .sort();
  const missing = (only ?? []).filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new SynthOutputError(`${outdir} has no stack ${missing.map((m) => `"${m}"`).join(", ")} (it has: ${names.join(", ") || "none"})`);
  }
  return names.filter((n) => !only || only.includes(n)).map((name) => readStack(join(stacksDir, name, "cdk.tf.json"), name));
}

export function readStack(file: string, name: string): SynthesizedStack {
  return { name, file, json: JSON.parse(readFileSync(file, "utf8")) as TerraformJson };
}

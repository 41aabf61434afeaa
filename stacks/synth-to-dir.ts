/**
 * The one "synthesize these environments into a temporary folder" step that `jobstack validate`
 * (stacks/policy/validate.ts) and `jobstack graph` (cli/commands/graph.ts) share: synthesize,
 * hand the folder to the caller, remove it whatever happens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedEnvironment } from "./config/resolve.js";
import { synthesize } from "./synth.js";

/**
 * Synthesizes `environments` into a fresh folder under the system's temporary directory (named
 * `jobstack-<purpose>-…`, so a leftover one says who made it), returns what `use` returns, and
 * removes the folder afterwards.
 */
export function withSynthesizedDir<T>(environments: readonly ResolvedEnvironment[], purpose: string, use: (outdir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), `jobstack-${purpose}-`));
  try {
    synthesize(environments, dir);
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

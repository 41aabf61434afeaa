/**
 * vitest globalSetup: removes the temporary folders a test run leaves in the OS temp dir that no
 * single test can clean up itself — cdktf's `Testing.app()` output folders (`cdktf.outdir.*`).
 * Only folders created during this run are touched.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LEFTOVERS = /^cdktf\.outdir\./;

export default function setup(): () => void {
  const startedMs = Date.now();
  return () => {
    const dir = tmpdir();
    for (const name of readdirSync(dir)) {
      if (!LEFTOVERS.test(name)) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).birthtimeMs >= startedMs - 1000) rmSync(path, { recursive: true, force: true });
      } catch {
        // Gone already, or not ours to remove: nothing to do.
      }
    }
  };
}

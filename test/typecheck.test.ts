/**
 * The whole repository type-checks under strict mode (`npm run build`), so CI catches a type
 * error in a file no other test imports, and provider classes stay behind their deep imports.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("the repository", () => {
  it("type-checks with tsc --noEmit (strict)", () => {
    const r = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--noEmit"], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("imports provider classes only from deep paths, and only inside stacks/docker and stacks/kubernetes", () => {
    const offenders: string[] = [];
    // bench/ is left out on purpose: bench/synth.ts measures the naive root import.
    for (const file of ["stacks", "presets", "services", "cli"].flatMap((d) => sources(d))) {
      for (const m of readFileSync(file, "utf8").matchAll(/from\s+"(@cdktf\/provider-[a-z]+)(\/[^"]*)?"/g)) {
        const inTarget = /^stacks\/(docker|kubernetes)\//.test(file);
        const deep = m[2] !== undefined && m[2].startsWith("/lib/");
        if (!inTarget || !deep) offenders.push(`${file}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

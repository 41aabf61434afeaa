/**
 * Every command reads the configuration `npm run synth` reads: JOBSTACK_ENVIRONMENTS_DIR for the
 * environment files, JOBSTACK_PRESET unless --preset is given, and each credits what chose.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../cli/run.js";
import { ENVIRONMENTS_DIR } from "../../stacks/config/index.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const saved = { ...process.env };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "jobstack-envdir-"));
  cpSync(ENVIRONMENTS_DIR, dir, { recursive: true });
});
afterEach(() => {
  for (const key of ["JOBSTACK_ENVIRONMENTS_DIR", "JOBSTACK_PRESET", "JOBSTACK_ENVS"]) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  rmSync(dir, { recursive: true, force: true });
});

const appendToDev = (yaml: string) => writeFileSync(join(dir, "dev.yaml"), `${readFileSync(join(dir, "dev.yaml"), "utf8")}${yaml}`);

describe("which preset, and who chose it", () => {
  it("credits --preset, not an environment variable nobody set", async () => {
    delete process.env.JOBSTACK_PRESET;
    const json = JSON.parse((await cli("explain", "--env", "dev", "--preset", "low-latency", "--json")).out) as { preset: { selectedBy: string } };
    expect(json.preset.selectedBy).toBe("--preset");
    const table = (await cli("explain", "--env", "dev", "--preset", "low-latency", "--wide")).out;
    expect(table).toMatch(/^preset\s+low-latency\s+--preset$/m);
    expect(table).not.toContain("JOBSTACK_PRESET");
  });

  it("credits the environment file when nothing forced a preset, and JOBSTACK_PRESET when it did", async () => {
    delete process.env.JOBSTACK_PRESET;
    const own = JSON.parse((await cli("explain", "--env", "dev", "--json")).out) as { preset: { name: string; selectedBy: string } };
    expect(own.preset).toMatchObject({ name: "dev", selectedBy: "environment" });
    process.env.JOBSTACK_PRESET = "balanced";
    const forced = JSON.parse((await cli("explain", "--env", "dev", "--json")).out) as { preset: { name: string; selectedBy: string } };
    expect(forced.preset).toMatchObject({ name: "balanced", selectedBy: "JOBSTACK_PRESET" });
  });
});

describe("JOBSTACK_ENVIRONMENTS_DIR", () => {
  it("is what explain reads, overrides included", async () => {
    appendToDev("overrides:\n  api: { replicas: 2 }\n");
    process.env.JOBSTACK_ENVIRONMENTS_DIR = dir;
    const json = JSON.parse((await cli("explain", "--env", "dev", "--json")).out) as { values: { api: { replicas: number } }; preset: { overridden: string[] } };
    expect(json.values.api.replicas).toBe(2);
    expect(json.preset.overridden).toEqual(["api.replicas"]);
  });

  it.each([
    ["explain", ["explain", "--env", "dev"]],
    ["validate", ["validate", "--env", "dev"]],
    ["graph", ["graph", "--env", "dev"]],
    ["local", ["local", "--env", "dev"]],
  ])("is what %s reads (an invalid file there fails it, naming that file)", async (_name, argv) => {
    appendToDev("overrides:\n  redis: { samples: 500 }\n");
    process.env.JOBSTACK_ENVIRONMENTS_DIR = dir;
    const r = await cli(...argv);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(dir, "dev.yaml")}:`);
    expect(r.err).toContain("overrides.redis.samples");
  });
});

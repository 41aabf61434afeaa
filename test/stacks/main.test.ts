/**
 * The cdktf app as users run it: `npx tsx stacks/main.ts` is what `cdktf synth` executes. These
 * spawn it for real, with its own output folder, and check what lands on disk.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readStackJson } from "../../stacks/synth.js";

const root = mkdtempSync(join(tmpdir(), "jobstack-main-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function synth(env: Record<string, string>, name: string) {
  const outdir = join(root, name);
  const result = spawnSync(process.execPath, ["--import", "tsx", "stacks/main.ts"], {
    env: { ...process.env, CDKTF_OUTDIR: outdir, JOBSTACK_ENVS: "", JOBSTACK_PRESET: "", ...env },
    encoding: "utf8",
  });
  return { ...result, outdir };
}

describe("stacks/main.ts", () => {
  it("writes one stack per environment file", () => {
    const r = synth({}, "all");
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(r.outdir, "stacks")).sort()).toEqual(["dev", "prod", "staging"]);
  });

  it("honours JOBSTACK_ENVS and JOBSTACK_PRESET", () => {
    const r = synth({ JOBSTACK_ENVS: "dev", JOBSTACK_PRESET: "memory-constrained" }, "one");
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(r.outdir, "stacks"))).toEqual(["dev"]);
    // The forced preset's derived Redis limit (60% of 96 MiB) is what the stack carries.
    expect(JSON.stringify(readStackJson(r.outdir, "dev"))).toContain(String(Math.floor(96 * 1024 * 1024 * 0.6)));
  });

  it("synthesizes nothing when any selected environment is invalid, and says why", () => {
    const dir = join(root, "bad-envs");
    mkdirSync(dir);
    writeFileSync(join(dir, "good.yaml"), "target: docker\ntier: dev\npreset: dev\ndocker: { network: { driver: bridge } }\nimages: { api: { image: 'a:1.0' }, worker: { image: 'a:1.0' } }\n");
    writeFileSync(join(dir, "bad.yaml"), "target: docker\ntier: dev\npreset: dev\ndocker: { network: { driver: overlay } }\nimages: { api: { image: 'a:1.0' }, worker: { image: 'a:1.0' } }\n");
    const r = synth({ JOBSTACK_ENVIRONMENTS_DIR: dir }, "bad");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.yaml:4: docker.network.driver: docker.network.driver (overlay) needs docker.swarmManager: true");
    expect(existsSync(join(r.outdir, "stacks"))).toBe(false);
  });
});

/** `npm run deploy|diff|output|destroy -- <env>`: what the cdktf wrapper (cli/cdktf.js) sets. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain JavaScript without declarations: it must start without tsx
import { cdktfEnvironment, COMMANDS } from "../../cli/cdktf.js";

const ROOT = join(import.meta.dirname, "..", "..");
const env = cdktfEnvironment as (base: NodeJS.ProcessEnv, how: { stack: string; tty: boolean }) => NodeJS.ProcessEnv;

describe("cdktf wrapper", () => {
  it("disables HashiCorp's checkpoint call, always", () => {
    expect(env({}, { stack: "dev", tty: true }).CHECKPOINT_DISABLE).toBe("1");
  });

  it("without a terminal, asks cdktf's renderer for final output only (CI=1), unless CI is set", () => {
    expect(env({}, { stack: "dev", tty: false }).CI).toBe("1");
    expect(env({}, { stack: "dev", tty: true }).CI).toBeUndefined();
    expect(env({ CI: "true" }, { stack: "dev", tty: false }).CI).toBe("true");
  });

  it("synthesizes only the environment named, unless JOBSTACK_ENVS says otherwise", () => {
    expect(env({}, { stack: "prod", tty: true }).JOBSTACK_ENVS).toBe("prod");
    expect(env({ JOBSTACK_ENVS: "staging" }, { stack: "staging", tty: true }).JOBSTACK_ENVS).toBe("staging");
  });

  it("is what the npm scripts run, and refuses to run without an environment (exit 2, one line)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    for (const command of COMMANDS as string[]) expect(pkg.scripts[command]).toBe(`node cli/cdktf.js ${command}`);
    const r = spawnSync(process.execPath, [join(ROOT, "cli", "cdktf.js"), "deploy"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("usage: npm run deploy -- <environment> [cdktf options]\n");
  });
});

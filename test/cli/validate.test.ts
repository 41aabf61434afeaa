/**
 * `jobstack validate`: the shipped environments pass; a deliberately broken environment (Redis
 * switched to noeviction through `overrides` in a temporary environment file) is caught with a
 * non-zero exit, in-process through run() and as a real `node cli/bin.js` process.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../cli/run.js";
import { ENVIRONMENTS_DIR, resolveEnvironmentFile } from "../../stacks/config/index.js";
import { RULES } from "../../stacks/policy/registry.js";
import { redisEviction } from "../../stacks/policy/rules/redis-eviction.js";
import { synthesize } from "../../stacks/synth.js";

const ROOT = join(import.meta.dirname, "..", "..");

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

let tmp: string;
let brokenOut: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "jobstack-validate-cli-"));
  // dev.yaml, plus an override that makes Redis refuse writes when full instead of evicting.
  const file = join(tmp, "broken.yaml");
  writeFileSync(file, `${readFileSync(join(ENVIRONMENTS_DIR, "dev.yaml"), "utf8")}\noverrides:\n  redis:\n    policy: noeviction\n`);
  brokenOut = join(tmp, "cdktf.out");
  synthesize([resolveEnvironmentFile(file)], brokenOut);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("jobstack validate", () => {
  it("passes the shipped dev environment", async () => {
    const r = await cli("validate", "--env", "dev");
    expect(r.err).toBe("");
    expect(r.out).toBe(`1 stack checked against ${RULES.length} rules: 0 violations`);
    expect(r.code).toBe(0);
  });

  it("catches the noeviction override with exit 1 and names stack, resource, rule and fix", async () => {
    const r = await cli("validate", "--out", brokenOut);
    expect(r.code).toBe(1);
    const lines = r.out.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^broken/docker_container\\.[\\w-]+: redis-eviction — redis runs with maxmemory-policy noeviction, not allkeys-lru \\(fix: ${redisEviction.fix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)$`),
    );
    expect(lines[1]).toBe(`1 stack checked against ${RULES.length} rules: 1 violation`);
  });

  it("exits 1 from a real process, with a JUnit failure for the rule", () => {
    const p = spawnSync(process.execPath, [join(ROOT, "cli", "bin.js"), "validate", "--out", brokenOut, "--format", "junit"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(p.status).toBe(1);
    expect(p.stdout).toContain('<testsuite name="broken" tests="14" failures="1"');
    expect(p.stdout).toMatch(/<testcase classname="jobstack\.validate\.broken" name="redis-eviction">\s*<failure message="docker_container\.[\w-]+: redis runs with maxmemory-policy noeviction, not allkeys-lru" type="redis-eviction">/);
    expect(p.stdout).toContain('<testcase classname="jobstack.validate.broken" name="health-check"></testcase>');
  });

  it("reports JSON with every rule and the violation", async () => {
    const r = await cli("validate", "--out", brokenOut, "--format", "json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { ok: boolean; rules: { id: string }[]; stacks: { stack: string; status: string; violations: { rule: string }[] }[] };
    expect(doc.ok).toBe(false);
    expect(doc.rules.map((x) => x.id)).toEqual(RULES.map((x) => x.id));
    expect(doc.stacks).toMatchObject([{ stack: "broken", status: "fail", violations: [{ rule: "redis-eviction" }] }]);
  });

  it("reads only the stack asked for from an existing output", async () => {
    const r = await cli("validate", "--out", brokenOut, "--env", "prod");
    expect(r.code).toBe(2);
    expect(r.err).toContain('has no stack "prod" (it has: broken)');
  });

  it("exits 1 on invalid configuration", async () => {
    const r = await cli("validate", "--env", "dev", "--preset", "no-such-preset");
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown preset "no-such-preset"');
  });

  it("reports invalid configuration as a JUnit failure when asked for JUnit", async () => {
    const r = await cli("validate", "--env", "dev", "--preset", "no-such-preset", "--format", "junit");
    expect(r.code).toBe(1);
    expect(r.out).toContain('<testcase classname="jobstack.validate.dev" name="configuration">');
  });

  it("rejects --preset and --matrix with --out (usage, exit 2)", async () => {
    expect((await cli("validate", "--out", brokenOut, "--preset", "dev")).code).toBe(2);
    expect((await cli("validate", "--out", brokenOut, "--matrix")).code).toBe(2);
    expect((await cli("validate", "--out", join(tmp, "nothing-here"))).code).toBe(2);
  });

  it("--matrix prints a pass/fail table (restricted here to one cell)", async () => {
    const r = await cli("validate", "--matrix", "--env", "staging", "--preset", "balanced");
    expect(r.code).toBe(0);
    expect(r.out.split("\n").slice(0, 3)).toEqual(["environment  balanced", "-----------  --------", "staging      pass"]);
  });
});

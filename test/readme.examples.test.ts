/**
 * The README's examples are run and their output compared, so they cannot drift from the code.
 * Each checked example follows a `<!-- example: … -->` marker:
 * - `config-error`: a shell session that appends to an environment file and runs `npm run synth`.
 *   The test appends the same text to a copy of stacks/environments (JOBSTACK_ENVIRONMENTS_DIR),
 *   runs the app command that `cdktf synth` runs (cdktf.json's "app"), and compares the problems.
 * - `jobstack graph --env <name>`: the diagram below it equals the command's output.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../cli/run.js";
import { ENVIRONMENTS_DIR } from "../stacks/config/index.js";

const ROOT = join(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The fenced block that follows `<!-- example: <name> … -->`. */
function exampleBlock(name: string): string {
  const marker = README.indexOf(`<!-- example: ${name} `);
  expect(marker, `README has no example marker "${name}"`).toBeGreaterThanOrEqual(0);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(README.slice(marker));
  return match![1]!;
}

async function cli(...argv: string[]): Promise<string> {
  const out: string[] = [];
  const code = await run(argv, (s) => out.push(s), () => undefined);
  expect(code).toBe(0);
  return out.join("\n");
}

describe("README examples", () => {
  it("config-error: the problems npm run synth prints for the appended overrides", () => {
    const block = exampleBlock("config-error");
    const session = /^\$ cat >> (\S+) <<'EOF'\n([\s\S]*?)^EOF\n^\$ (.+)\n([\s\S]*)$/m.exec(block);
    expect(session, "the example is `$ cat >> FILE <<'EOF' … EOF`, `$ COMMAND`, then the output").not.toBeNull();
    const [, file, appended, command, expected] = session!;
    expect(command).toBe("npm run synth");
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.synth).toMatch(/\bcdktf synth$/);
    const app = (JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")) as { app: string }).app;

    expect(file!.startsWith("stacks/environments/")).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "jobstack-readme-"));
    try {
      cpSync(ENVIRONMENTS_DIR, dir, { recursive: true });
      appendFileSync(join(dir, file!.slice("stacks/environments/".length)), appended!);
      const r = spawnSync(app, { cwd: ROOT, shell: true, encoding: "utf8", env: { ...process.env, JOBSTACK_ENVIRONMENTS_DIR: dir, JOBSTACK_ENVS: "", JOBSTACK_PRESET: "" } });
      expect(r.status).toBe(1);
      const printed = r.stderr.replaceAll(`${dir}/`, "stacks/environments/").trim();
      expect(printed).toBe(expected!.trim());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(["prod", "dev"])("jobstack graph --env %s draws what the README shows", async (env) => {
    expect((await cli("graph", "--env", env)).trim()).toBe(exampleBlock(`jobstack graph --env ${env}`).trim());
  });
});

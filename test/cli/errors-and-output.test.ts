/**
 * How the CLI answers: usage errors in one line with a pointer to --help (exit 2), runtime errors
 * alone (exit 1), --version, structured output for scripts, and a table that fits a terminal.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/run.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const ROOT = join(import.meta.dirname, "..", "..");

describe("usage errors", () => {
  it("names an unknown flag in one line, suggests the near one and points at --help", async () => {
    const r = await cli("explain", "--env", "dev", "--prest", "dev");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe('jobstack: unknown option --prest; did you mean "--preset"? (see jobstack --help)');
  });

  it("says which flag lacks its value", async () => {
    const r = await cli("explain", "--env");
    expect(r.code).toBe(2);
    expect(r.err).toBe("jobstack: --env needs a value (see jobstack --help)");
  });

  it("suggests a command for a misspelt one", async () => {
    const r = await cli("explian", "--env", "dev");
    expect(r.code).toBe(2);
    expect(r.err).toBe('jobstack: unknown command "explian"; did you mean "explain"? (see jobstack --help)');
  });
});

describe("runtime errors", () => {
  it("print the error alone and exit 1", async () => {
    const r = await cli("graph", "--env", "dev", "--out", join(ROOT, "no-such-cdktf.out"));
    expect(r.code).toBe(1);
    expect(r.err.split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^jobstack: .*no-such-cdktf\.out holds no synthesized stacks/);
    expect(r.err).not.toContain("Usage:");
  });
});

it("--version prints the package version", async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const r = await cli("--version");
  expect(r).toEqual({ code: 0, out: pkg.version, err: "" });
});

describe("structured output", () => {
  it("explain --json on an invalid configuration prints the issues validate --format json prints", async () => {
    const explain = await cli("explain", "--env", "dev", "--preset", "nope", "--json");
    expect(explain.code).toBe(1);
    const validate = await cli("validate", "--env", "dev", "--preset", "nope", "--format", "json");
    const fromExplain = JSON.parse(explain.out) as { ok: boolean; issues: unknown[] };
    const fromValidate = JSON.parse(validate.out) as { stacks: { issues: unknown[] }[] };
    expect(fromExplain.ok).toBe(false);
    expect(fromExplain.issues).toEqual([{ file: "--preset", path: "", message: expect.stringContaining('unknown preset "nope"') }]);
    expect(fromExplain.issues).toEqual(fromValidate.stacks[0]!.issues);
  });

  it("presets --json gives numbers, with the unit in the field name", async () => {
    const r = await cli("presets", "--json");
    const presets = JSON.parse(r.out) as Record<string, unknown>[];
    const dev = presets.find((p) => p.name === "dev")!;
    expect(dev).toMatchObject({
      api: { replicas: 1, cpu: 0.5, memoryMiB: 256 },
      worker: { replicas: 1, cpu: 0.5, memoryMiB: 512, concurrency: 4 },
      gc: "G1",
    });
    for (const p of presets) {
      for (const role of ["api", "worker"]) {
        for (const value of Object.values(p[role] as Record<string, unknown>)) expect(typeof value).toBe("number");
      }
    }
  });
});

describe("explain's table", () => {
  it("fits 100 columns, and --wide keeps every row on one line", async () => {
    const fitted = (await cli("explain", "--env", "prod")).out.split("\n");
    expect(Math.max(...fitted.map((l) => l.length))).toBeLessThanOrEqual(100);
    const wide = (await cli("explain", "--env", "prod", "--wide")).out.split("\n");
    expect(Math.max(...wide.map((l) => l.length))).toBeGreaterThan(100);
    // The fitted table wraps rows; no text is lost on the way.
    const words = (lines: string[]) => lines.slice(2).join(" ").split(/\s+/).filter(Boolean).join("").length;
    expect(words(fitted)).toBe(words(wide));
  });
});

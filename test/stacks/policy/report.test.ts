/** Output formats of `jobstack validate`, including matrix cells whose configuration is invalid. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../stacks/config/index.js";
import { checkStacks, RULES } from "../../../stacks/policy/registry.js";
import { matrixEntries, matrixTable, toJson, toJunit, toText } from "../../../stacks/policy/report.js";
import type { SynthesizedStack } from "../../../stacks/policy/types.js";
import type { MatrixResult } from "../../../stacks/policy/validate.js";

// A Docker stack with one container that breaks several rules, and an invalid cell.
const stack: SynthesizedStack = {
  name: "dev",
  file: "memory",
  json: {
    provider: { docker: [{}] },
    resource: { docker_container: { web: { name: "jobstack-dev-api", image: "example/api", labels: [{ label: "com.jobstack.service", value: "api" }] } } },
  },
};
const [report] = checkStacks([stack]);
const error = new ConfigError([{ file: "stacks/environments/prod.yaml", path: "overrides.redis.maxmemoryPercent", message: "must be at most 90 <&>" }]);
const matrix: MatrixResult = {
  environments: ["dev", "prod"],
  presets: ["small"],
  cells: [
    { environment: "dev", preset: "small", status: "fail", report: report! },
    { environment: "prod", preset: "small", status: "invalid", error },
  ],
  ok: false,
};

describe("validate report formats", () => {
  it("a stack breaking several rules lists each violation once per rule", () => {
    expect(report!.violations.map((v) => v.rule)).toEqual(["health-check", "image-pinned", "resource-limits", "least-privilege", "least-privilege"]);
  });

  it("matrix table: pass/fail per cell, invalid configuration as a failure", () => {
    expect(matrixTable(matrix).split("\n")).toEqual(["environment  small", "-----------  -------------", "dev          FAIL (5)", "prod         FAIL (config)"]);
  });

  it("text names the preset, the violations and the configuration error", () => {
    const text = toText(matrixEntries(matrix));
    expect(text).toContain("[small] dev/docker_container.web: image-pinned — api image \"example/api\" has no tag (means :latest)");
    expect(text).toContain("[small] prod: invalid configuration\n  invalid configuration (1 problem):\n    - stacks/environments/prod.yaml: overrides.redis.maxmemoryPercent: must be at most 90 <&>");
    expect(text.split("\n").at(-1)).toBe(`1 stack checked against ${RULES.length} rules: 5 violations, 1 invalid configuration`);
  });

  it("JUnit: a testsuite per stack and preset, a testcase per rule, escaped", () => {
    const xml = toJunit(matrixEntries(matrix));
    expect(xml).toContain(`<testsuites name="jobstack validate" tests="${RULES.length + 1}" failures="5">`);
    expect(xml).toContain(`<testsuite name="dev [small]" tests="${RULES.length}" failures="4" errors="0" skipped="0">`);
    expect(xml).toContain('<testcase classname="jobstack.validate.dev.small" name="data-ports"></testcase>');
    expect(xml).toContain('<failure message="2 violations" type="least-privilege">');
    expect(xml).toContain('<testsuite name="prod [small]" tests="1" failures="1"');
    expect(xml).toContain("must be at most 90 &lt;&amp;&gt;");
    expect(xml).not.toMatch(/<&>/);
  });

  it("JSON: status per cell and the matrix", () => {
    const doc = JSON.parse(toJson(matrixEntries(matrix), matrix)) as { ok: boolean; stacks: { stack: string; status: string }[]; matrix: { cells: { status: string }[] } };
    expect(doc.ok).toBe(false);
    expect(doc.stacks.map((s) => [s.stack, s.status])).toEqual([["dev", "fail"], ["prod", "invalid"]]);
    expect(doc.matrix.cells.map((c) => c.status)).toEqual(["fail", "invalid"]);
  });
});

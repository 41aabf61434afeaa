/** Output formats of `jobstack validate`, including matrix cells whose configuration is invalid. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../stacks/config/index.js";
import { checkStacks, RULES } from "../../../stacks/policy/registry.js";
import { matrixEntries, matrixTable, toJson, toJunit, toText } from "../../../stacks/policy/report.js";
import type { SynthesizedStack } from "../../../stacks/policy/types.js";
import type { MatrixResult } from "../../../stacks/policy/validate.js";
import { parseJunit } from "../../support/junit.js";

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

  it("JUnit: a testsuite per stack and preset, a testcase per rule, counts that add up, escaped text intact", () => {
    const junit = parseJunit(toJunit(matrixEntries(matrix)));
    expect(junit.tests).toBe(RULES.length + 1);
    expect(junit.failures).toBe(5);
    expect(junit.suites.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ["dev [small]", RULES.length, 4],
      ["prod [small]", 1, 1],
    ]);
    const dev = junit.suites[0]!;
    expect(dev.cases.map((c) => c.name)).toEqual(RULES.map((r) => r.id));
    expect(new Set(dev.cases.map((c) => c.classname))).toEqual(new Set(["jobstack.validate.dev.small"]));
    expect(dev.cases.find((c) => c.name === "data-ports")!.failure).toBeUndefined();
    expect(dev.cases.find((c) => c.name === "least-privilege")!.failure).toMatchObject({ message: "2 violations", type: "least-privilege" });
    // The parser decodes the entities: the message reads as written, with its < & >.
    const config = junit.suites[1]!.cases[0]!;
    expect(config).toMatchObject({ name: "configuration", classname: "jobstack.validate.prod.small", failure: { message: "invalid configuration", type: "config" } });
    expect(config.failure!.body).toContain("must be at most 90 <&>");
  });

  it("JUnit of a clean run: every testcase passes, zero failures", () => {
    const clean = checkStacks([]);
    const junit = parseJunit(toJunit(clean.map((r) => ({ name: r.stack, stack: r.stack, report: r }))));
    expect(junit).toEqual({ tests: 0, failures: 0, suites: [] });
  });

  it("JSON: status per cell and the matrix", () => {
    const doc = JSON.parse(toJson(matrixEntries(matrix), matrix)) as { ok: boolean; stacks: { stack: string; status: string }[]; matrix: { cells: { status: string }[] } };
    expect(doc.ok).toBe(false);
    expect(doc.stacks.map((s) => [s.stack, s.status])).toEqual([["dev", "fail"], ["prod", "invalid"]]);
    expect(doc.matrix.cells.map((c) => c.status)).toEqual(["fail", "invalid"]);
  });
});

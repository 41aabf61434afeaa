/**
 * Output formats of `jobstack validate`: text (one line per violation, then a summary), JSON,
 * and JUnit XML (a testsuite per stack, a testcase per rule) that CI systems display natively.
 */
import type { ConfigError } from "../config/index.js";
import { RULES, type StackReport } from "./registry.js";
import { formatViolation } from "./types.js";
import type { MatrixResult } from "./validate.js";

/** A checked stack, or an environment whose configuration did not resolve. */
export interface Entry {
  /** Suite name: the stack, or `stack [preset]` in a matrix. */
  readonly name: string;
  readonly stack: string;
  readonly preset?: string;
  readonly report?: StackReport;
  readonly error?: ConfigError;
}

export function entriesOf(reports: readonly StackReport[]): Entry[] {
  return reports.map((report) => ({ name: report.stack, stack: report.stack, report }));
}

export function matrixEntries(m: MatrixResult): Entry[] {
  return m.cells.map((c) => ({
    name: `${c.environment} [${c.preset}]`,
    stack: c.environment,
    preset: c.preset,
    ...(c.report ? { report: c.report } : {}),
    ...(c.error ? { error: c.error } : {}),
  }));
}

export const entriesOk = (entries: readonly Entry[]): boolean => entries.every((e) => !e.error && e.report?.violations.length === 0);

export function toText(entries: readonly Entry[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    const prefix = e.preset ? `[${e.preset}] ` : "";
    if (e.error) lines.push(`${prefix}${e.stack}: invalid configuration`, ...e.error.message.split("\n").map((l) => `  ${l}`));
    for (const v of e.report?.violations ?? []) lines.push(prefix + formatViolation(v));
  }
  const checked = entries.filter((e) => e.report).length;
  const violations = entries.reduce((n, e) => n + (e.report?.violations.length ?? 0), 0);
  const invalid = entries.filter((e) => e.error).length;
  lines.push(
    `${checked} stack${checked === 1 ? "" : "s"} checked against ${RULES.length} rules: ${violations} violation${violations === 1 ? "" : "s"}` +
      (invalid > 0 ? `, ${invalid} invalid configuration${invalid === 1 ? "" : "s"}` : ""),
  );
  return lines.join("\n");
}

export function matrixTable(m: MatrixResult): string {
  const header = ["environment", ...m.presets];
  const rows = m.environments.map((env) => [
    env,
    ...m.presets.map((preset) => {
      const cell = m.cells.find((c) => c.environment === env && c.preset === preset);
      if (!cell) return "-";
      if (cell.status === "pass") return "pass";
      if (cell.status === "invalid") return "FAIL (config)";
      return `FAIL (${cell.report!.violations.length})`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function toJson(entries: readonly Entry[], matrix?: MatrixResult): string {
  return JSON.stringify(
    {
      ok: entriesOk(entries),
      rules: RULES.map((r) => ({ id: r.id, rationale: r.rationale, fix: r.fix })),
      stacks: entries.map((e) => ({
        stack: e.stack,
        ...(e.preset ? { preset: e.preset } : {}),
        status: e.error ? "invalid" : e.report!.violations.length === 0 ? "pass" : "fail",
        ...(e.error ? { error: e.error.message, issues: e.error.issues } : {}),
        violations: e.report?.violations ?? [],
      })),
      ...(matrix
        ? { matrix: { environments: matrix.environments, presets: matrix.presets, cells: matrix.cells.map((c) => ({ environment: c.environment, preset: c.preset, status: c.status })) } }
        : {}),
    },
    null,
    2,
  );
}

const xml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

export function toJunit(entries: readonly Entry[]): string {
  const suites = entries.map((e) => {
    const classname = `jobstack.validate.${e.stack}${e.preset ? `.${e.preset}` : ""}`;
    if (e.error) {
      return [
        `  <testsuite name="${xml(e.name)}" tests="1" failures="1" errors="0" skipped="0">`,
        `    <testcase classname="${xml(classname)}" name="configuration">`,
        `      <failure message="invalid configuration" type="config">${xml(e.error.message)}</failure>`,
        "    </testcase>",
        "  </testsuite>",
      ].join("\n");
    }
    const results = e.report!.results;
    const failures = results.filter((r) => r.violations.length > 0).length;
    const cases = results.map((r) => {
      const open = `    <testcase classname="${xml(classname)}" name="${xml(r.rule.id)}">`;
      if (r.violations.length === 0) return `${open}</testcase>`;
      const first = r.violations[0]!;
      const message = r.violations.length === 1 ? `${first.resource}: ${first.message}` : `${r.violations.length} violations`;
      return [
        open,
        `      <failure message="${xml(message)}" type="${xml(r.rule.id)}">${xml(r.violations.map(formatViolation).join("\n"))}</failure>`,
        "    </testcase>",
      ].join("\n");
    });
    return [`  <testsuite name="${xml(e.name)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0">`, ...cases, "  </testsuite>"].join("\n");
  });
  const tests = entries.reduce((n, e) => n + (e.report ? e.report.results.length : 1), 0);
  const failures = entries.reduce((n, e) => n + (e.report ? e.report.results.filter((r) => r.violations.length > 0).length : 1), 0);
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="jobstack validate" tests="${tests}" failures="${failures}">`, ...suites, "</testsuites>"].join("\n");
}

/**
 * Reads a JUnit XML report the way CI systems do (GitHub test reporters, GitLab, Jenkins): parsed
 * by an XML parser, never matched as text. `parseJunit` fails the test when the document is not
 * well-formed or the counts CI shows (tests, failures, errors per suite and in total) do not add
 * up to the testcases and failures actually present.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { expect } from "vitest";

export interface JunitCase {
  readonly name: string;
  readonly classname: string;
  /** The failure's message attribute and body, when the case failed. */
  readonly failure?: { readonly message: string; readonly type: string; readonly body: string };
}

export interface JunitSuite {
  readonly name: string;
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
  readonly cases: readonly JunitCase[];
}

export interface JunitReport {
  readonly tests: number;
  readonly failures: number;
  readonly suites: readonly JunitSuite[];
}

type Element = Record<string, unknown>;
const list = (v: unknown): Element[] => (v === undefined ? [] : Array.isArray(v) ? (v as Element[]) : [v as Element]);

function count(el: Element, attr: string, where: string): number {
  const raw = el[`@_${attr}`];
  expect(typeof raw, `${where}: ${attr} attribute`).toBe("string");
  expect(raw, `${where}: ${attr} is a whole number`).toMatch(/^\d+$/);
  return Number(raw);
}

export function parseJunit(xml: string): JunitReport {
  const valid = XMLValidator.validate(xml);
  expect(valid, "well-formed XML").toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", textNodeName: "#text", parseAttributeValue: false, parseTagValue: false, trimValues: false }).parse(xml) as Element;
  const root = doc.testsuites as Element | undefined;
  expect(root, "root element <testsuites>").toBeDefined();

  const suites = list(root!.testsuite).map((s, i): JunitSuite => {
    const where = `testsuite[${i}]`;
    expect(typeof s["@_name"], `${where} name`).toBe("string");
    const cases = list(s.testcase).map((c, j): JunitCase => {
      const at = `${where}.testcase[${j}]`;
      expect(typeof c["@_name"], `${at} name`).toBe("string");
      expect(typeof c["@_classname"], `${at} classname`).toBe("string");
      const failures = list(c.failure);
      expect(failures.length, `${at}: at most one <failure>`).toBeLessThanOrEqual(1);
      const f = failures[0];
      return {
        name: c["@_name"] as string,
        classname: c["@_classname"] as string,
        ...(f ? { failure: { message: String(f["@_message"] ?? ""), type: String(f["@_type"] ?? ""), body: String(f["#text"] ?? "") } } : {}),
      };
    });
    const suite: JunitSuite = {
      name: s["@_name"] as string,
      tests: count(s, "tests", where),
      failures: count(s, "failures", where),
      errors: count(s, "errors", where),
      cases,
    };
    expect(suite.tests, `${where} (${suite.name}): tests = its testcases`).toBe(cases.length);
    expect(suite.failures, `${where} (${suite.name}): failures = its failed testcases`).toBe(cases.filter((c) => c.failure).length);
    expect(suite.errors, `${where}: errors (no <error> elements are written)`).toBe(0);
    return suite;
  });
  const report = { tests: count(root!, "tests", "testsuites"), failures: count(root!, "failures", "testsuites"), suites };
  expect(report.tests, "testsuites tests = sum of the suites").toBe(suites.reduce((n, s) => n + s.tests, 0));
  expect(report.failures, "testsuites failures = sum of the suites").toBe(suites.reduce((n, s) => n + s.failures, 0));
  return report;
}

/**
 * Imports point the way the folder READMEs say (the table in rules.ts), and no module imports
 * itself through others. A failure names the file and line of each offending import and the rule
 * it breaks, or the files of the cycle in order.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importsOf, readImportGraph, type ImportEdge } from "./import-graph.js";
import { formatCycle, formatViolation, importCycles, ruleFor, ruleViolations, ungoverned, type FolderRule } from "./rules.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const edge = (from: string, to: string, line = 1): ImportEdge => ({ from, to, line, specifier: to });

describe("the repository's imports", () => {
  const graph = readImportGraph(ROOT);

  it("are read from every source file", () => {
    // A broken reader would find nothing and pass every check below.
    expect(graph.files.length).toBeGreaterThan(200);
    expect(graph.edges.length).toBeGreaterThan(500);
    expect(graph.edges).toContainEqual(expect.objectContaining({ from: "stacks/config/resolve.ts", to: "presets/index.ts" }));
  });

  it("all name a file that exists", () => {
    expect(graph.unresolved.map((e) => `${e.from}:${e.line} imports "${e.specifier}", which names no file`)).toEqual([]);
  });

  it("fall under a folder rule, file by file", () => {
    expect(ungoverned(graph.files).map((f) => `${f}: no entry in test/architecture/rules.ts governs it`)).toEqual([]);
  });

  it("go only where their folder may import", () => {
    expect(ruleViolations(graph.edges).map(formatViolation)).toEqual([]);
  });

  it("form no cycles", () => {
    expect(importCycles(graph).map(formatCycle)).toEqual([]);
  });
});

describe("the folder rules", () => {
  it("let the most specific folder govern a file", () => {
    expect(ruleFor("services/api/app.ts")?.folder).toBe("services/api/");
    expect(ruleFor("services/Dockerfile.ts")?.folder).toBe("services/");
    expect(ruleFor("nowhere/x.ts")).toBeUndefined();
  });

  it("catch a planted import against the direction, and name file, line and rule", () => {
    const planted = [
      edge("presets/index.ts", "config-files/yaml.ts"), // allowed
      edge("presets/index.ts", "stacks/config/load.ts", 9),
      edge("services/api/app.ts", "services/worker/worker.ts", 4),
      edge("services/api/app.ts", "services/handlers/index.ts"), // allowed
      edge("stacks/config/service-env.ts", "services/core/env-contract.ts"), // allowed by name
      edge("stacks/docker/api.ts", "services/core/env-contract.ts", 1),
      edge("stacks/docker/api.ts", "stacks/kubernetes/pod.ts", 3),
      edge("stacks/docker/api.ts", "stacks/render-helpers.ts"), // allowed
      edge("stacks/graph/docker.ts", "stacks/policy/rules/data-ports.ts", 5),
      edge("stacks/graph/docker.ts", "stacks/policy/model.ts"), // allowed
      edge("bench/load.ts", "test/support/procs.ts", 3),
      edge("cli/main.ts", "bench/run.ts", 2),
      edge("test/bench/render.test.ts", "bench/lib/render.ts"), // allowed
    ];
    const found = ruleViolations(planted).map(formatViolation);
    expect(found).toEqual([
      expect.stringMatching(/^presets\/index\.ts:9 imports stacks\/config\/load\.ts .*presets\/ may import config-files\//),
      expect.stringMatching(/^services\/api\/app\.ts:4 imports services\/worker\/worker\.ts .*services\/api\/ may import services\/core\/, services\/handlers\//),
      expect.stringMatching(/^stacks\/docker\/api\.ts:1 imports services\/core\/env-contract\.ts .*stacks\/docker\/ may import/),
      expect.stringMatching(/^stacks\/docker\/api\.ts:3 imports stacks\/kubernetes\/pod\.ts .*never import each other/),
      expect.stringMatching(/^stacks\/graph\/docker\.ts:5 imports stacks\/policy\/rules\/data-ports\.ts .*never a rule/),
      expect.stringMatching(/^bench\/load\.ts:3 imports test\/support\/procs\.ts /),
      expect.stringMatching(/^cli\/main\.ts:2 imports bench\/run\.ts /),
    ]);
  });

  it("apply a table given to them, not only the repository's", () => {
    const rules: FolderRule[] = [{ folder: "a/", mayImport: ["b/only.ts"], why: "test" }];
    expect(ruleViolations([edge("a/x.ts", "b/only.ts"), edge("a/x.ts", "b/other.ts", 7)], rules).map(formatViolation)).toEqual([
      'a/x.ts:7 imports b/other.ts ("b/other.ts"): a/ may import b/only.ts (test)',
    ]);
    expect(ungoverned(["a/x.ts", "c/y.ts"], rules)).toEqual(["c/y.ts"]);
  });
});

describe("the cycle finder", () => {
  it("reports a planted cycle as a closed path, shortest first", () => {
    const edges = [
      edge("bench/lib/render.ts", "bench/jobs.ts", 4),
      edge("bench/jobs.ts", "bench/lib/stats.ts", 26),
      edge("bench/jobs.ts", "bench/lib/render.ts", 24),
      edge("bench/lib/stats.ts", "bench/lib/cpu.ts", 1),
    ];
    expect(importCycles({ edges }).map(formatCycle)).toEqual(["bench/jobs.ts:24 → bench/lib/render.ts:4 → bench/jobs.ts"]);
  });

  it("reports a module that imports itself, and nothing for a chain", () => {
    expect(importCycles({ edges: [edge("a.ts", "a.ts", 3)] }).map(formatCycle)).toEqual(["a.ts:3 → a.ts"]);
    expect(importCycles({ edges: [edge("a.ts", "b.ts"), edge("b.ts", "c.ts"), edge("a.ts", "c.ts")] })).toEqual([]);
  });

  it("finds one cycle in each of two separate loops", () => {
    const edges = [edge("a.ts", "b.ts"), edge("b.ts", "a.ts"), edge("c.ts", "d.ts"), edge("d.ts", "e.ts"), edge("e.ts", "c.ts")];
    expect(importCycles({ edges }).map(formatCycle)).toEqual(["a.ts:1 → b.ts:1 → a.ts", "c.ts:1 → d.ts:1 → e.ts:1 → c.ts"]);
  });
});

describe("the import reader", () => {
  it("finds static, type-only, side-effect, dynamic and re-exporting imports, with their lines", () => {
    const source = [
      'import { a } from "./a.js";',
      'import type { B } from "./b.js";',
      'import "./side-effect.js";',
      "import {",
      "  c,",
      '} from "./c.js";',
      'export { d } from "./d.js";',
      'export * as e from "./e.js";',
      'export type { F } from "./f.js";',
      'const g = await import("./g.js");',
      'type H = typeof import("./h.js");',
      'const i = require("./i.cjs");',
    ].join("\n");
    expect(importsOf(source)).toEqual([
      { specifier: "./a.js", line: 1 },
      { specifier: "./b.js", line: 2 },
      { specifier: "./side-effect.js", line: 3 },
      { specifier: "./c.js", line: 4 },
      { specifier: "./d.js", line: 7 },
      { specifier: "./e.js", line: 8 },
      { specifier: "./f.js", line: 9 },
      { specifier: "./g.js", line: 10 },
      { specifier: "./h.js", line: 11 },
      { specifier: "./i.cjs", line: 12 },
    ]);
  });

  it("ignores import-like text in comments, strings, templates and regular expressions", () => {
    const source = [
      '// import { x } from "./comment.js";',
      '/* export * from "./block.js"; */',
      'const s = "import { y } from \'./string.js\'";',
      'const t = `import { z } from "./template.js"; ${1 + 1} export * from "./tail.js"`;',
      'const r = /"/; const q = "after the regex";',
      'const meta = import.meta.url; const o = { import: 1 }; o.import;',
      "export const n = 1;",
      "export { n as m };",
      'import { real } from "./real.js";',
    ].join("\n");
    expect(importsOf(source)).toEqual([{ specifier: "./real.js", line: 9 }]);
  });
});

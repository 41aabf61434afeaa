/**
 * Which folder may import which: the table the folder READMEs describe in words, and the checks
 * that hold the import graph (import-graph.ts) to it. The rules name folders, not files, so they
 * keep holding when files move within a folder or a new file joins one.
 */
import type { ImportEdge, ImportGraph } from "./import-graph.js";

export interface FolderRule {
  /** A folder (`services/api/`) or a single file (`vitest.config.ts`), repository-relative. */
  readonly folder: string;
  /** Folders or files it may import besides itself; packages (`zod`, `node:fs`) are always allowed. */
  readonly mayImport: readonly string[];
  /** Why, in a few words: printed with a violation. */
  readonly why: string;
}

/**
 * The most specific entry (the longest `folder`) governs a file, so `services/api/` narrows
 * `services/`. Every file must fall under an entry: a new top-level folder needs a line here.
 */
export const FOLDER_RULES: readonly FolderRule[] = [
  { folder: "config-files/", mayImport: [], why: "YAML reading and configuration errors: a leaf both presets/ and stacks/ build on" },
  { folder: "presets/", mayImport: ["config-files/"], why: "presets are data and their tuning; the stacks read them, not the other way" },
  {
    folder: "stacks/",
    mayImport: ["presets/", "config-files/", "services/core/env-contract.ts", "services/core/config.ts"],
    why: "the deployment code; of the services it may read only the environment contract they share",
  },
  {
    folder: "stacks/config/",
    mayImport: ["presets/", "config-files/", "services/core/env-contract.ts"],
    why: "the environment is resolved before any stack exists; the services' contract types what it sets",
  },
  {
    folder: "stacks/docker/",
    mayImport: ["stacks/topology.ts", "stacks/render-helpers.ts", "stacks/secrets.ts", "stacks/outputs.ts", "stacks/config/", "presets/"],
    why: "a renderer reads the topology and the shared helpers; the two renderers never import each other",
  },
  {
    folder: "stacks/kubernetes/",
    mayImport: ["stacks/topology.ts", "stacks/render-helpers.ts", "stacks/secrets.ts", "stacks/outputs.ts", "stacks/config/", "presets/"],
    why: "a renderer reads the topology and the shared helpers; the two renderers never import each other",
  },
  { folder: "stacks/graph/", mayImport: ["stacks/policy/model.ts", "presets/"], why: "the graph draws policy's model of a stack, never a rule" },
  { folder: "services/", mayImport: [], why: "the image copies services/ alone (services/Dockerfile)" },
  { folder: "services/core/", mayImport: [], why: "the base both services build on; it knows neither of them" },
  { folder: "services/handlers/", mayImport: ["services/core/"], why: "the handler registry both services build from" },
  { folder: "services/api/", mayImport: ["services/core/", "services/handlers/"], why: "the api and the worker share only core and handlers" },
  { folder: "services/worker/", mayImport: ["services/core/", "services/handlers/"], why: "the api and the worker share only core and handlers" },
  { folder: "services/migrations/", mayImport: ["services/core/"], why: "migrations run before either service" },
  {
    folder: "cli/",
    mayImport: ["stacks/", "presets/", "config-files/", "services/core/", "services/migrations/"],
    why: "the command line drives the stacks, and `jobstack local` runs the services' own code",
  },
  { folder: "handlers/", mayImport: ["services/handlers/index.ts"], why: "handler modules use the public handler API alone (`jobstack/worker`)" },
  { folder: "examples/", mayImport: ["services/handlers/index.ts"], why: "handler modules use the public handler API alone (`jobstack/worker`)" },
  { folder: "harness/", mayImport: ["services/"], why: "runs the real services for the tests and the benchmarks; it is neither" },
  { folder: "bench/", mayImport: ["harness/", "services/", "stacks/"], why: "benchmarks measure the product; tests are not theirs to import" },
  { folder: "test/", mayImport: [""], why: "tests may import anything" },
  { folder: "vitest.config.ts", mayImport: [], why: "test runner configuration" },
];

export interface Violation {
  readonly edge: ImportEdge;
  readonly rule: FolderRule;
}

const within = (file: string, place: string): boolean => (place.endsWith("/") || place === "" ? file.startsWith(place) : file === place);

/** The entry that governs `file`, or undefined when none does. */
export function ruleFor(file: string, rules: readonly FolderRule[] = FOLDER_RULES): FolderRule | undefined {
  return rules.filter((r) => within(file, r.folder)).sort((a, b) => b.folder.length - a.folder.length)[0];
}

/** Imports that leave their folder for one it may not import. */
export function ruleViolations(edges: readonly ImportEdge[], rules: readonly FolderRule[] = FOLDER_RULES): Violation[] {
  return edges.flatMap((edge) => {
    const rule = ruleFor(edge.from, rules);
    if (!rule) return [];
    const allowed = within(edge.to, rule.folder) || rule.mayImport.some((place) => within(edge.to, place));
    return allowed ? [] : [{ edge, rule }];
  });
}

/** Files no entry governs. */
export function ungoverned(files: readonly string[], rules: readonly FolderRule[] = FOLDER_RULES): string[] {
  return files.filter((f) => ruleFor(f, rules) === undefined);
}

export function formatViolation({ edge, rule }: Violation): string {
  const allowed = rule.mayImport.length > 0 ? rule.mayImport.join(", ") : "nothing outside it";
  return `${edge.from}:${edge.line} imports ${edge.to} ("${edge.specifier}"): ${rule.folder} may import ${allowed} (${rule.why})`;
}

/**
 * Import cycles, one per strongly connected set of files, each as a closed path of edges
 * (a → b → … → a). Type-only imports count: a cycle of types is still two modules that cannot be
 * understood apart.
 */
export function importCycles(graph: Pick<ImportGraph, "edges">): ImportEdge[][] {
  const out = new Map<string, ImportEdge[]>();
  for (const e of graph.edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  const nodes = [...new Set(graph.edges.flatMap((e) => [e.from, e.to]))].sort();
  // Tarjan's strongly connected components, iteratively (deep chains would overflow the stack).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const edges = out.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!.to;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfImport = (out.get(frame.node) ?? []).some((e) => e.to === frame.node);
        if (component.length > 1 || selfImport) components.push(component.sort());
      }
    }
  }
  return components.map((component) => shortestCycle(component[0]!, new Set(component), out));
}

/** The shortest path from `start` back to itself inside its component (breadth first). */
function shortestCycle(start: string, component: ReadonlySet<string>, out: ReadonlyMap<string, readonly ImportEdge[]>): ImportEdge[] {
  const via = new Map<string, ImportEdge>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const edge of out.get(node) ?? []) {
      if (!component.has(edge.to)) continue;
      if (edge.to === start) {
        const path = [edge];
        for (let at = node; at !== start; at = via.get(at)!.from) path.unshift(via.get(at)!);
        return path;
      }
      if (!via.has(edge.to)) {
        via.set(edge.to, edge);
        queue.push(edge.to);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

export function formatCycle(cycle: readonly ImportEdge[]): string {
  return [...cycle.map((e) => `${e.from}:${e.line}`), cycle[0]!.from].join(" → ");
}

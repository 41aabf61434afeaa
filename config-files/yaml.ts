/**
 * Reads a YAML file into plain data and keeps enough of the document to point a later
 * validation issue at its line. Syntax errors become ConfigIssues with line numbers.
 */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document, type Node } from "yaml";
import { ConfigError, type ConfigIssue } from "./errors.js";

export interface YamlSource {
  readonly file: string;
  readonly data: unknown;
  /** The 1-based line of the value at `path`, or of its nearest present ancestor. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function readYamlFile(absolutePath: string, displayPath: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(absolutePath, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(err)})`;
    throw new ConfigError([{ file: displayPath, path: "", message }]);
  }
  return parseYaml(text, displayPath);
}

export function parseYaml(text: string, displayPath: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => ({
      file: displayPath,
      path: "",
      // prettyErrors appends " at line L, column C" and a code excerpt; keep the sentence only.
    message: `YAML syntax error: ${(e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "")}`,
      line: e.linePos?.[0]?.line,
    }));
    throw new ConfigError(issues);
  }
  return {
    file: displayPath,
    data: doc.toJS() ?? {},
    lineOf: (path) => lineOf(doc, lineCounter, path),
  };
}

/** Walks the path, remembering the line of the deepest key (or item) found: a key's own line reads best. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line = startLine(node as Node | null, counter);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) break;
      line = startLine(pair.key as Node, counter) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      line = startLine(item as Node, counter) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function startLine(node: Node | null | undefined, counter: LineCounter): number | undefined {
  return node?.range ? counter.linePos(node.range[0]).line : undefined;
}

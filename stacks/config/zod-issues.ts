/** Turns zod issues into ConfigIssues that name the file, the dotted field path and the line. */
import type { z } from "zod";
import type { ConfigIssue } from "./errors.js";
import type { YamlSource } from "./yaml.js";

export function dottedPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

export function zodIssues(
  error: z.ZodError,
  source: Pick<YamlSource, "file" | "lineOf">,
  prefix: readonly PropertyKey[] = [],
): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    // An unknown key is reported on its parent; point at each key so a typo is easy to find.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const path = [...prefix, ...issue.path, key];
        return { file: source.file, path: dottedPath(path), message: "unknown field", line: source.lineOf(path) };
      });
    }
    const path = [...prefix, ...issue.path];
    return [{ file: source.file, path: dottedPath(path), message: issue.message, line: source.lineOf(path) }];
  });
}

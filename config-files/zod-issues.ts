/** Turns zod issues into ConfigIssues that name the file, the dotted field path and the line. */
import type { z } from "zod";
import type { ConfigIssue } from "./errors.js";
import { didYouMean } from "./suggest.js";
import type { YamlSource } from "./yaml.js";

export function dottedPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/**
 * @param schema the schema that produced `error`; with it, an unknown field is matched against
 *   the fields its object does know ("did you mean …?").
 */
export function zodIssues(
  error: z.ZodError,
  source: Pick<YamlSource, "file" | "lineOf">,
  prefix: readonly PropertyKey[] = [],
  schema?: z.ZodType,
): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    // An unknown key is reported on its parent; point at each key so a typo is easy to find.
    if (issue.code === "unrecognized_keys") {
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map((key) => {
        const path = [...prefix, ...issue.path, key];
        return { file: source.file, path: dottedPath(path), message: `unknown field${didYouMean(key, known)}`, line: source.lineOf(path) };
      });
    }
    const path = [...prefix, ...issue.path];
    return [{ file: source.file, path: dottedPath(path), message: issue.message, line: source.lineOf(path) }];
  });
}

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly in?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The field names of the object schema at `path` (through optional, default, arrays, records). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (node === undefined) return [];
    const def = defOf(node);
    if (def.type === "object" && def.shape) node = def.shape[String(segment)];
    else if (def.type === "array") node = def.element;
    else if (def.type === "record") node = def.valueType;
    else return [];
    node = node && unwrap(node);
  }
  const def = node && defOf(node);
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  for (;;) {
    const def = defOf(node);
    if ((def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault") && def.innerType) node = def.innerType;
    else if (def.type === "pipe" && def.in) node = def.in;
    else return node;
  }
}

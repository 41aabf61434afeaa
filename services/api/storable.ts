/**
 * Refuses (400) request bodies that parse as JSON but that the system cannot store or process:
 *
 * - a string (value or key) holding NUL (U+0000): Postgres `text` and `jsonb` cannot hold it;
 * - a string holding an unpaired UTF-16 surrogate (`"\ud800"` is valid JSON, but no UTF-8 text,
 *   so Postgres rejects the escape);
 * - nesting deeper than BODY_MAX_DEPTH (services/core/config.ts): serialising such a value again
 *   (the jsonb parameter, the cache entry, the idempotency comparison) is recursive and would
 *   overflow the stack.
 *
 * Found by test/reliability/hostile-input.test.ts: each of these was a 500 before. The walk is
 * iterative, so checking a body nested 100,000 deep cannot overflow the stack itself.
 */
import type { FastifyRequest } from "fastify";
import { ApiError } from "./http-errors.js";

/** A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface UnstorableValue {
  /** Dotted path from the body's root, e.g. `payload.items.3.name`. */
  readonly path: string;
  readonly message: string;
  readonly code: "body_too_deep" | "unstorable_string";
}

function pathOf(segments: readonly (string | number)[]): string {
  const shown = segments.length > 12 ? [...segments.slice(0, 12), "…"] : segments;
  return shown.map((s) => (typeof s === "string" && s.length > 40 ? `${s.slice(0, 40)}…` : String(s))).join(".");
}

function describeString(s: string): string {
  return s.includes("\u0000") ? "contains NUL (\\u0000), which Postgres cannot store" : "contains an unpaired UTF-16 surrogate, which is not valid Unicode text";
}

/** The first problem found in `value` (depth-first), or null when it can be stored. */
export function findUnstorable(value: unknown, maxDepth: number): UnstorableValue | null {
  const stack: Array<{ value: unknown; path: (string | number)[]; depth: number }> = [{ value, path: [], depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (UNSTORABLE_CHAR.test(v)) return { path: pathOf(path), code: "unstorable_string", message: describeString(v) };
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= maxDepth) {
      return { path: pathOf(path), code: "body_too_deep", message: `nested deeper than BODY_MAX_DEPTH (${maxDepth}) levels of arrays and objects` };
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i], depth: depth + 1 });
    } else {
      for (const [k, child] of Object.entries(v)) {
        if (UNSTORABLE_CHAR.test(k)) return { path: pathOf([...path, k]), code: "unstorable_string", message: `a key ${describeString(k)}` };
        stack.push({ value: child, path: [...path, k], depth: depth + 1 });
      }
    }
  }
  return null;
}

/** A fastify `preValidation` hook: 400 naming the field and the rule (or the setting) it broke. */
export function refuseUnstorableBodies(maxDepth: number) {
  return async function unstorableBodyHook(request: FastifyRequest): Promise<void> {
    if (request.body === undefined) return;
    const problem = findUnstorable(request.body, maxDepth);
    if (!problem) return;
    throw new ApiError(400, problem.code, `invalid request body: ${problem.path ? `body.${problem.path}` : "body"} ${problem.message}`, [
      { part: "body", path: problem.path, message: problem.message, ...(problem.code === "body_too_deep" ? { limit: "BODY_MAX_DEPTH", max: maxDepth } : {}) },
    ]);
  };
}

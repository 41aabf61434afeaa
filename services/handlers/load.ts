// Loads the handler modules named in JOB_HANDLER_MODULES into a registry, at process start.
// Every way a module can be wrong stops the start with one HandlerModuleError naming the module
// and the reason (the api and the worker exit 2 with it): a job type must never turn out to be
// missing only when its first job fails.
//
// A module is either
//   - a path: "./handlers/x.ts" or "/abs/x.js", resolved from the working directory (the
//     repository root locally, /app in the image), or
//   - a package specifier ("@acme/jobs"), resolved from jobstack's own node_modules.
// and exports either handler definitions (`export default defineHandler({…})`, named exports of
// defineHandler results, or arrays of them) or, the older format, `register(registry, context)`.

import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isHandlerDefinition, type HandlerDefinition } from "./define.js";
import type { HandlerRegistry } from "./registry.js";

/** What a handler module's `register` receives besides the registry. */
export interface HandlerModuleContext {
  readonly databaseUrl: string;
  readonly workerId: string;
  /** Which process loads the module: the api only checks payloads, it never runs a handler. */
  readonly role?: "api" | "worker";
}

export class HandlerModuleError extends Error {
  override name = "HandlerModuleError";
  constructor(
    readonly module: string,
    readonly reason: string,
  ) {
    super(`handler module ${module}: ${reason}`);
  }
}

const isPath = (spec: string) => spec.startsWith(".") || path.isAbsolute(spec);

export async function loadHandlerModules(
  registry: HandlerRegistry,
  specifiers: readonly string[],
  context: HandlerModuleContext,
  options: { cwd?: string } = {},
): Promise<void> {
  for (const spec of specifiers) await loadOne(registry, spec, context, options.cwd ?? process.cwd());
}

async function loadOne(registry: HandlerRegistry, spec: string, context: HandlerModuleContext, cwd: string): Promise<void> {
  const fail = (reason: string): never => {
    throw new HandlerModuleError(spec, reason);
  };
  let target = spec;
  if (isPath(spec)) {
    const file = path.resolve(cwd, spec);
    if (!existsSync(file)) fail(`file not found (${file})`);
    if (statSync(file).isDirectory()) fail(`is a folder (${file}); name the module files in it`);
    target = pathToFileURL(file).href;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (raw) {
    const err = raw instanceof Error ? raw : new Error(String(raw));
    const code = (err as { code?: string }).code;
    if (!isPath(spec) && (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED") && err.message.includes(`'${spec}'`)) {
      fail(`package not found: install it next to jobstack (npm install --save-exact ${spec}), or name a file as ./path/to/module.ts`);
    }
    fail(`failed to load: ${err.message.split("\n")[0]}`);
  }

  const definitions = collectDefinitions(mod!);
  const register = mod!.register;
  if (register !== undefined && typeof register !== "function") fail(`exports "register" but it is a ${typeof register}, not a function`);
  if (definitions.length === 0 && register === undefined) {
    const names = Object.keys(mod!).sort();
    fail(
      `exports no handler: expected \`export default defineHandler({…})\` (or named defineHandler exports) or \`export function register(registry)\`; ` +
        `found ${names.length === 0 ? "no exports" : `exports: ${names.join(", ")}`}`,
    );
  }

  await registry.registeringAs(spec, async () => {
    for (const { exportName, definition } of definitions) {
      const type = definition.type ?? (exportName === "default" ? defaultTypeName(spec) : undefined);
      if (type === undefined) fail(`export "${exportName}" has no type: give it one with defineHandler({ type: "…", … })`);
      try {
        registry.register(type!, definition);
      } catch (err) {
        fail((err as Error).message);
      }
    }
    if (typeof register === "function") {
      try {
        await (register as (r: HandlerRegistry, c: HandlerModuleContext) => unknown)(registry, context);
      } catch (err) {
        fail(`register() failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  });
}

/** Definitions among a module's exports (default first), each once even when exported twice. */
function collectDefinitions(mod: Record<string, unknown>): { exportName: string; definition: HandlerDefinition }[] {
  const seen = new Set<unknown>();
  const found: { exportName: string; definition: HandlerDefinition }[] = [];
  const names = Object.keys(mod).sort((a, b) => (a === "default" ? -1 : b === "default" ? 1 : 0));
  for (const exportName of names) {
    const value = mod[exportName];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isHandlerDefinition(item) && !seen.has(item)) {
        seen.add(item);
        found.push({ exportName, definition: item });
      }
    }
  }
  return found;
}

/** `./handlers/send-invoice.ts` → `send-invoice`; a package's default export must name its type. */
function defaultTypeName(spec: string): string | undefined {
  if (!isPath(spec)) return undefined;
  return path.basename(spec).replace(/\.(m|c)?(t|j)s$/, "");
}

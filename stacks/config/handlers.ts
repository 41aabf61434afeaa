/**
 * Which handler modules an environment runs: the environment file's `handlers:` list, or, when
 * it has none, every module in the repository's `handlers/` folder. The result becomes
 * JOB_HANDLER_MODULES of the api and the worker (stacks/config/service-env.ts), so both load the
 * same job types (services/handlers/load.ts).
 *
 * An entry is a path from the repository root (`./handlers/send-invoice.ts`, or a folder, which
 * stands for the module files directly in it) or a package name. A path must lie in one of
 * HANDLER_DIRS, the folders services/Dockerfile and services/Dockerfile.handlers copy into the
 * image, and must exist: a module the image would not hold fails here, not at the container's start.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import type { Environment } from "./schema.js";

/** The repository root (the images' working directory /app corresponds to it). */
export const REPO_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/** The folders the images copy; handler module paths must lie inside one of them. */
export const HANDLER_DIRS = ["handlers", "examples"] as const;
/** The folder picked up when an environment file has no `handlers:`. */
export const DEFAULT_HANDLERS_DIR = "handlers";

const MODULE_FILE = /^[^.].*\.(ts|mts|js|mjs)$/;
const NOT_A_MODULE = /\.(d\.ts|test\.ts|spec\.ts)$/;

export interface HandlerSelection {
  /** Module specifiers in load order: `./handlers/x.ts` paths and package names. */
  readonly modules: readonly string[];
  /** `environment` when the file lists them, else the default folder. */
  readonly from: "environment" | "handlers/ folder";
}

export interface HandlerIssue {
  /** The entry's position in the `handlers:` list. */
  readonly index: number;
  /** Path inside the environment file, e.g. `handlers[1]` (as zod's issues name list items). */
  readonly path: string;
  readonly message: string;
}

const isPath = (entry: string) => entry.startsWith("./") || entry.startsWith("../") || entry === "." || entry === "..";

/** Module files directly in `dir` (repository-relative, posix), sorted so the order is stable. */
function modulesIn(root: string, dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => MODULE_FILE.test(f) && !NOT_A_MODULE.test(f) && statSync(join(root, dir, f)).isFile())
    .sort()
    .map((f) => `./${posix.join(dir, f)}`);
}

export function resolveHandlers(environment: Environment, root: string = REPO_ROOT): { selection: HandlerSelection; issues: HandlerIssue[] } {
  const issues: HandlerIssue[] = [];
  if (environment.handlers === undefined) {
    const modules = existsSync(join(root, DEFAULT_HANDLERS_DIR)) ? modulesIn(root, DEFAULT_HANDLERS_DIR) : [];
    return { selection: { modules, from: "handlers/ folder" }, issues };
  }
  const modules: string[] = [];
  environment.handlers.forEach((entry, i) => {
    const path = `handlers[${i}]`;
    if (!isPath(entry)) {
      if (existsSync(join(root, entry.split("/")[0]!))) {
        issues.push({ index: i, path, message: `${entry} reads as a package name; write a path from the repository root as ./${posix.normalize(entry)}` });
        return;
      }
      modules.push(entry); // a package: npm ci installs it into the image when package.json lists it
      return;
    }
    const rel = posix.normalize(entry);
    const top = rel.split("/")[0]!;
    if (!(HANDLER_DIRS as readonly string[]).includes(top)) {
      issues.push({
        index: i,
        path,
        message: `${entry} is outside ${HANDLER_DIRS.map((d) => `${d}/`).join(" and ")}, the folders the image copies; move the module there`,
      });
      return;
    }
    const abs = join(root, rel);
    if (!existsSync(abs)) {
      issues.push({ index: i, path, message: `${entry} does not exist (paths are relative to the repository root)` });
      return;
    }
    if (statSync(abs).isDirectory()) {
      const inside = modulesIn(root, rel);
      if (inside.length === 0) issues.push({ index: i, path, message: `${entry} is a folder without module files (.ts, .js, .mjs)` });
      modules.push(...inside);
      return;
    }
    if (!MODULE_FILE.test(posix.basename(rel))) {
      issues.push({ index: i, path, message: `${entry} is not a module file (.ts, .mts, .js, .mjs)` });
      return;
    }
    modules.push(`./${rel}`);
  });
  return { selection: { modules: [...new Set(modules)], from: "environment" }, issues };
}

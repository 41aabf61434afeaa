import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, resolveEnvironmentSource } from "../../../stacks/config/index.js";
import { parseYaml } from "../../../config-files/yaml.js";
import { DOCKER_ENV } from "./helpers.js";

// A repository root of its own: handlers/ with two modules and files that are not modules.
const root = mkdtempSync(join(tmpdir(), "jobstack-handlers-"));
mkdirSync(join(root, "handlers"));
mkdirSync(join(root, "examples/handlers"), { recursive: true });
mkdirSync(join(root, "examples/empty"), { recursive: true });
mkdirSync(join(root, "lib"));
for (const f of ["handlers/send-invoice.ts", "handlers/resize.mjs", "handlers/README.md", "handlers/types.d.ts", "handlers/resize.test.ts", "handlers/.hidden.ts"]) {
  writeFileSync(join(root, f), "");
}
for (const f of ["examples/handlers/a.ts", "examples/handlers/b.js", "examples/notes.txt", "lib/x.ts"]) writeFileSync(join(root, f), "");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const resolve = (extra = "") => resolveEnvironmentSource("test", parseYaml(`${DOCKER_ENV}${extra}`, "test.yaml"), { repoRoot: root });

function issues(extra: string): string[] {
  try {
    resolve(extra);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("an environment's handler modules", () => {
  it("default to every module in handlers/, in a stable order", () => {
    expect(resolve().handlers).toEqual({ modules: ["./handlers/resize.mjs", "./handlers/send-invoice.ts"], from: "handlers/ folder" });
  });

  it("are empty when there is no handlers/ folder", () => {
    const bare = mkdtempSync(join(tmpdir(), "jobstack-bare-"));
    try {
      expect(resolveEnvironmentSource("t", parseYaml(DOCKER_ENV, "t.yaml"), { repoRoot: bare }).handlers.modules).toEqual([]);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it("follow the environment file's list: files, folders (their modules), packages; each once", () => {
    const r = resolve("handlers: [./examples/handlers/a.ts, ./handlers, \"@acme/jobs\", ./examples/../examples/handlers/a.ts]\n");
    expect(r.handlers).toEqual({
      modules: ["./examples/handlers/a.ts", "./handlers/resize.mjs", "./handlers/send-invoice.ts", "@acme/jobs"],
      from: "environment",
    });
    expect(resolve("handlers: []\n").handlers.modules).toEqual([]);
  });

  it("reports every bad entry with file, line and field", () => {
    expect(
      issues(`handlers:
  - ./handlers/missing.ts
  - ./lib/x.ts
  - ./examples/notes.txt
  - ./examples/empty
  - handlers/resize.mjs
`),
    ).toEqual([
      "test.yaml:12: handlers[0]: ./handlers/missing.ts does not exist (paths are relative to the repository root)",
      "test.yaml:13: handlers[1]: ./lib/x.ts is outside handlers/ and examples/, the folders the image copies; move the module there",
      "test.yaml:14: handlers[2]: ./examples/notes.txt is not a module file (.ts, .mts, .js, .mjs)",
      "test.yaml:15: handlers[3]: ./examples/empty is a folder without module files (.ts, .js, .mjs)",
      "test.yaml:16: handlers[4]: handlers/resize.mjs reads as a package name; write a path from the repository root as ./handlers/resize.mjs",
    ]);
    expect(issues("handlers: [/opt/handlers/x.ts, \"./a.ts,./b.ts\"]\n")).toEqual([
      expect.stringMatching(/handlers\[0\]: must be relative to the repository root \(\.\/handlers\/x\.ts\) or a package name/),
      expect.stringMatching(/handlers\[1\]: must not contain spaces or commas/),
    ]);
  });
});

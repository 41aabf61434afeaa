import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSynthOutput, SynthOutputError } from "../../../stacks/policy/load.js";

const dir = mkdtempSync(join(tmpdir(), "jobstack-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("loadSynthOutput", () => {
  it("reads every stacks/<name>/cdk.tf.json, sorted, optionally only some", () => {
    for (const name of ["prod", "dev"]) {
      mkdirSync(join(dir, "stacks", name), { recursive: true });
      writeFileSync(join(dir, "stacks", name, "cdk.tf.json"), JSON.stringify({ resource: { x: { y: { name } } } }));
    }
    mkdirSync(join(dir, "stacks", "empty"), { recursive: true });
    expect(loadSynthOutput(dir).map((s) => s.name)).toEqual(["dev", "prod"]);
    expect(loadSynthOutput(dir, ["prod"]).map((s) => s.json.resource?.x?.y?.name)).toEqual(["prod"]);
  });

  it("names what is missing", () => {
    expect(() => loadSynthOutput(dir, ["staging"])).toThrow(new SynthOutputError(`${dir} has no stack "staging" (it has: dev, prod)`));
    expect(() => loadSynthOutput(join(dir, "nope"))).toThrow(SynthOutputError);
  });
});

/**
 * Every shipped environment × every shipped preset synthesizes and passes every rule, and the
 * matrix synthesizes each environment exactly once per preset (one App per preset).
 */
import { describe, expect, it, vi } from "vitest";
import { listPresets } from "../../../presets/index.js";
import { listEnvironments } from "../../../stacks/config/index.js";
import { formatViolation } from "../../../stacks/policy/types.js";
import { validateMatrix } from "../../../stacks/policy/validate.js";

const calls: string[][] = [];
vi.mock("../../../stacks/synth.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../../stacks/synth.js")>();
  return {
    ...real,
    synthesize: (envs: Parameters<typeof real.synthesize>[0], outdir: string) => {
      calls.push(envs.map((e) => `${e.name}:${e.presetSelection.name}`));
      return real.synthesize(envs, outdir);
    },
  };
});

describe("validateMatrix over the shipped environments and presets", () => {
  it("passes in every cell, synthesizing each environment once per preset", { timeout: 600_000 }, () => {
    const result = validateMatrix();
    const failures = result.cells.flatMap((c) =>
      c.status === "pass" ? [] : c.error ? [`${c.environment} × ${c.preset}: ${c.error.message}`] : c.report!.violations.map((v) => `${c.preset}: ${formatViolation(v)}`),
    );
    expect(failures).toEqual([]);
    expect(result.ok).toBe(true);
    const envs = listEnvironments();
    const presets = listPresets();
    expect(result.cells).toHaveLength(envs.length * presets.length);
    expect(calls).toEqual(presets.map((p) => envs.map((e) => `${e}:${p}`)));
  });
});

/**
 * The tests start PostgreSQL 15 (this machine's); the stacks deploy 16. The derived settings
 * must not depend on that difference, or the tests would prove settings nobody deploys
 * (docs/server-versions.md).
 */
import { describe, expect, it } from "vitest";
import { listPresets, loadPreset } from "../../presets/index.js";
import { DEFAULT_POSTGRES_MAJOR, postgresTuning } from "../../presets/tuning/postgres.js";
import { EnvironmentSchema } from "../../stacks/config/schema.js";
import { postgresBinDir } from "../support/throwaway.js";

const TESTED_MAJOR = Number(/postgresql\/(\d+)\//.exec(`${postgresBinDir()}/`)?.[1]);

describe("Postgres versions", () => {
  it("derives for the deployed major: the image's tag and DEFAULT_POSTGRES_MAJOR agree", () => {
    const images = EnvironmentSchema.shape.images.parse({ api: { image: "a:1" }, worker: { image: "a:1" } }) as { postgres: string };
    expect(images.postgres).toMatch(new RegExp(`^postgres:${DEFAULT_POSTGRES_MAJOR}\\.\\d+-bookworm@sha256:[a-f0-9]{64}$`));
  });

  it.each(listPresets())("%s: the same settings for the tested and the deployed major", (name) => {
    expect(TESTED_MAJOR).toBeGreaterThanOrEqual(15);
    const p = loadPreset(name).postgres;
    const input = { memoryMiB: p.memoryMiB, cpus: p.cpu, workload: p.workload, storage: p.storage, storageGiB: p.storageGiB, maxConnections: p.maxConnections };
    expect(postgresTuning({ ...input, majorVersion: TESTED_MAJOR }).settings).toEqual(postgresTuning({ ...input, majorVersion: DEFAULT_POSTGRES_MAJOR }).settings);
  });
});

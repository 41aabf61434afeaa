/** Temp folders of environment (and preset) files for config tests; removed by the caller. */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PRESETS_DIR } from "../../../presets/index.js";

export interface ConfigDirs {
  readonly envDir: string;
  readonly presetsDir: string;
  writeEnv(name: string, yaml: string): string;
  writePreset(name: string, yaml: string): string;
  cleanup(): void;
}

/** A fresh folder with a copy of the shipped presets and no environments. */
export function configDirs(): ConfigDirs {
  const root = mkdtempSync(join(tmpdir(), "jobstack-config-"));
  const envDir = join(root, "environments");
  const presetsDir = join(root, "presets");
  mkdirSync(envDir);
  mkdirSync(presetsDir);
  for (const f of readdirSync(PRESETS_DIR).filter((f) => f.endsWith(".yaml"))) cpSync(join(PRESETS_DIR, f), join(presetsDir, f));
  return {
    envDir,
    presetsDir,
    writeEnv: (name, yaml) => {
      const file = join(envDir, `${name}.yaml`);
      writeFileSync(file, yaml);
      return file;
    },
    writePreset: (name, yaml) => {
      const file = join(presetsDir, `${name}.yaml`);
      writeFileSync(file, yaml);
      return file;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const DOCKER_ENV = `
target: docker
tier: dev
preset: dev
docker:
  network:
    driver: bridge
images:
  api: { image: "ghcr.io/example/jobstack:0.1.0" }
  worker: { image: "ghcr.io/example/jobstack:0.1.0" }
`;

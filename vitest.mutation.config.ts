import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

// The tests Stryker runs against mutants of services/core and presets/tuning (stryker.config.json):
// those that cover the two folders, without the ones that start real programs per test
// (tuning.realprograms runs java and throwaway servers: minutes per pass).
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["test/services/core/**/*.test.ts", "test/presets/**/*.test.ts"],
      exclude: ["test/presets/tuning.realprograms.test.ts", "**/node_modules/**"],
    },
  }),
);

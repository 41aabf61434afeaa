import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// The tests Stryker runs against mutants of services/core and presets/tuning (stryker.config.mjs):
// those that cover the two folders, without the one that starts real programs per test
// (tuning.realprograms runs java and throwaway servers: minutes per pass). MUTATION_TESTS
// (comma-separated globs) narrows them for a partial run, e.g. MUTATION_TESTS='test/presets/**/*.test.ts'
// with `--mutate 'presets/tuning/**/*.ts'`. (mergeConfig would append to the base's include, not replace it.)
const include = process.env.MUTATION_TESTS?.split(",").filter(Boolean) ?? ["test/services/core/**/*.test.ts", "test/presets/**/*.test.ts"];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include,
    exclude: ["test/presets/tuning.realprograms.test.ts", "**/node_modules/**"],
  },
});

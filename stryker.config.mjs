// Mutation testing of services/core and presets/tuning: `npm run mutation` (README, "Mutation
// testing"). Not part of `npm test`: a full run takes far longer than the suite.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  // Only the tests that cover the mutated folders (vitest.mutation.config.ts).
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  mutate: [
    "services/core/**/*.ts",
    "presets/tuning/**/*.ts",
    // Re-exports and type declarations: nothing to mutate that a test could observe.
    "!services/core/index.ts",
    "!services/core/jobs/index.ts",
    "!services/core/jobs/operations/index.ts",
    "!services/core/jobs/types.ts",
  ],
  coverageAnalysis: "perTest",
  // Each test file makes its own database, queue names and Redis prefix (test/support), so two
  // workers never share state.
  concurrency: 2,
  timeoutMS: 10_000,
  dryRunTimeoutMinutes: 15,
  // A rerun tests only the mutants whose code or covering tests changed since the last run on this
  // machine. The file is not committed: timeouts depend on the machine's load, and a stale
  // "killed" would hide a test that no longer kills.
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
  // Stryker rewrites the sandbox's tsconfig through the TypeScript compiler API, which TypeScript 7
  // no longer has; the tsconfig needs no rewrite (no extends, no references), so point it nowhere.
  tsconfigFile: "",
  ignorePatterns: [".ci/tools", "reports"],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
};

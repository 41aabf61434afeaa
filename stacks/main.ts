/**
 * The cdktf app: one stack per environment file in stacks/environments/.
 *
 *   npm run synth                        # every environment (cdktf synth, offline-safe)
 *   JOBSTACK_ENVS=dev npm run synth      # only some
 *   JOBSTACK_PRESET=low-latency npm run synth     # force a preset for this run (CI)
 *   npm run deploy -- dev                # deploy one (cli/cdktf.js: cdktf deploy dev, offline-safe)
 *
 * A configuration problem in any selected environment stops the run before a stack is written.
 */
import { App } from "cdktf";
import { ConfigError, loadEnvironments, selectionFromEnv } from "./config/index.js";
import { JobStack } from "./job-stack.js";

function main(): void {
  let environments;
  try {
    environments = loadEnvironments(selectionFromEnv());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = new App();
  for (const env of environments) new JobStack(app, env.name, env);
  app.synth();
}

main();

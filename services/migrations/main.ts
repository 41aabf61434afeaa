// `npm run migrate`: applies pending migrations to DATABASE_URL and exits.
// Exit codes: 0 applied or nothing to do, 1 a migration failed, 2 bad configuration.

import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadServiceConfig, ServiceConfigError } from "../core/config.js";
import { coerceError } from "../core/errors.js";
import { migrate } from "./migrate.js";

export { migrate, loadMigrations, MIGRATIONS_DIR } from "./migrate.js";

async function main(): Promise<number> {
  let databaseUrl: string;
  try {
    databaseUrl = loadServiceConfig("migrate").databaseUrl;
  } catch (err) {
    console.error(err instanceof ServiceConfigError ? err.message : coerceError(err).message);
    return 2;
  }
  try {
    const { applied, skipped } = await migrate(databaseUrl);
    console.log(applied.length === 0 ? `schema up to date (${skipped.length} applied before)` : `applied ${applied.join(", ")}`);
    return 0;
  } catch (err) {
    console.error(coerceError(err).message);
    return 1;
  }
}

// Run only when executed directly, so that `import { migrate } from ".../main.js"` has no side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main();
}

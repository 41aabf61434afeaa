/** Entry point of the `jobstack` command; see cli/run.ts. */
import { run } from "./run.js";

process.exitCode = await run(process.argv.slice(2));

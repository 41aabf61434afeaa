#!/usr/bin/env node
/**
 * `npm run deploy|diff|output|destroy -- <env> [cdktf options]`: runs `cdktf <command> <env>` the
 * way the README and CI need it.
 *
 * - CHECKPOINT_DISABLE=1: cdktf otherwise calls HashiCorp's checkpoint service and prints a red
 *   `getaddrinfo ENOTFOUND` on an offline machine.
 * - Without a terminal (CI logs, a pipe), CI=1 unless CI is already set: cdktf's renderer (ink)
 *   then prints the final output once instead of one spinner frame per line.
 * - JOBSTACK_ENVS=<env> unless already set, so the synth before the command resolves only the
 *   environment being deployed.
 *
 * Plain JavaScript (no tsx) so that it starts as fast as cdktf itself.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const COMMANDS = ["deploy", "diff", "output", "destroy"];
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The environment cdktf runs with.
 * @param {NodeJS.ProcessEnv} base
 * @param {{ stack: string, tty: boolean }} how
 * @returns {NodeJS.ProcessEnv}
 */
export function cdktfEnvironment(base, { stack, tty }) {
  const env = { ...base, CHECKPOINT_DISABLE: "1" };
  if (!tty && env.CI === undefined) env.CI = "1";
  if (!env.JOBSTACK_ENVS) env.JOBSTACK_ENVS = stack;
  return env;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));

/** @param {string[]} argv */
function main(argv) {
  const [command, ...args] = argv;
  const stack = args.find((a) => !a.startsWith("-"));
  if (!COMMANDS.includes(command ?? "") || stack === undefined) {
    console.error(`usage: npm run ${COMMANDS.includes(command ?? "") ? command : "deploy|diff|output|destroy"} -- <environment> [cdktf options]`);
    process.exit(2);
  }
  const env = cdktfEnvironment(process.env, { stack, tty: process.stdout.isTTY === true });

  const bin = join(ROOT, "node_modules", ".bin", "cdktf");
  if (!existsSync(bin)) {
    console.error(`cdktf-cli is not installed (${bin}); run npm ci first`);
    process.exit(1);
  }
  const child = spawn(bin, [command, ...args], { stdio: "inherit", env, cwd: ROOT });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : 15) : 1)));
}

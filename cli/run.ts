/**
 * The `jobstack` command as a function (cli/main.ts calls it). Parses arguments, dispatches to one module per command, and maps
 * failures to exit codes: 1 for invalid configuration, policy violations or a command that failed
 * (its message alone), 2 for usage (one line and a pointer to --help).
 * Commands are imported lazily so `jobstack presets` never loads the Terraform providers.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../config-files/errors.js";
import { didYouMean } from "../config-files/suggest.js";
import { SynthOutputError } from "../stacks/policy/load.js";
import { CommandError, EXIT, USAGE, UsageError } from "./usage.js";

type Options = Record<string, string | boolean | undefined>;

const OPTIONS = {
  env: { type: "string" },
  preset: { type: "string" },
  json: { type: "boolean", default: false },
  format: { type: "string" },
  out: { type: "string" },
  matrix: { type: "boolean", default: false },
  wide: { type: "boolean", default: false },
  workers: { type: "string" },
  port: { type: "string" },
  "log-format": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", short: "v", default: false },
} as const;

const COMMANDS = ["presets", "explain", "validate", "graph", "local", "help"] as const;

/** The version in package.json, read when asked for. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** parseArgs' own messages quote unevenly and suggest `--` for positionals; say it in one plain line. */
function parseArgsError(e: Error & { code?: string }): UsageError {
  const flag = /'(-{1,2}[^'\s]+)/.exec(e.message)?.[1];
  const known = Object.keys(OPTIONS).map((o) => `--${o}`);
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return new UsageError(`unknown option ${flag}${didYouMean(flag, known)}`);
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    return new UsageError(OPTIONS[flag.replace(/^-+/, "") as keyof typeof OPTIONS]?.type === "string" ? `${flag} needs a value` : `${flag} takes no value`);
  }
  return new UsageError(e.message.split("\n")[0] ?? e.message);
}

function str(opts: Options, name: string): string | undefined {
  const v = opts[name];
  return typeof v === "string" ? v : undefined;
}

function required(opts: Options, name: string, command: string): string {
  const v = str(opts, name);
  if (!v) throw new UsageError(`jobstack ${command} needs --${name}`);
  return v;
}

function positiveInt(opts: Options, name: string): number | undefined {
  const v = str(opts, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got "${v}"`);
  return n;
}

/** Runs one CLI invocation; returns the exit code. Output goes to the given streams. */
export async function run(argv: readonly string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) throw parseArgsError(e as Error & { code?: string });
      throw e;
    }
    const { values, positionals } = parsed;
    const opts = values as Options;
    const [command, ...rest] = positionals;
    if (opts.version) {
      out(version());
      return EXIT.ok;
    }
    if (opts.help || command === "help") {
      out(USAGE);
      return EXIT.ok;
    }
    if (command === undefined) {
      err(USAGE);
      return EXIT.usage;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const preset = str(opts, "preset");
    switch (command) {
      case "presets": {
        const { presetsCommand } = await import("./commands/presets.js");
        out(presetsCommand({ json: opts.json === true }));
        return EXIT.ok;
      }
      case "explain": {
        const { explainCommand } = await import("./commands/explain.js");
        const json = opts.json === true;
        try {
          out(explainCommand({ env: required(opts, "env", "explain"), ...(preset ? { preset } : {}), json, wide: opts.wide === true }));
        } catch (e) {
          // With --json, stdout carries the same structured issues as `validate --format json`.
          if (json && e instanceof ConfigError) out(JSON.stringify({ ok: false, status: "invalid", error: e.message, issues: e.issues }, null, 2));
          throw e;
        }
        return EXIT.ok;
      }
      case "validate": {
        const { validateCommand } = await import("./commands/validate.js");
        const env = str(opts, "env");
        const outDir = str(opts, "out");
        return await validateCommand(
          {
            ...(env ? { env } : {}),
            ...(preset ? { preset } : {}),
            ...(outDir ? { out: outDir } : {}),
            format: parseFormat(str(opts, "format") ?? "text", ["text", "json", "junit"] as const),
            matrix: opts.matrix === true,
          },
          out,
        );
      }
      case "graph": {
        const { graphCommand } = await import("./commands/graph.js");
        const outDir = str(opts, "out");
        out(
          await graphCommand({
            env: required(opts, "env", "graph"),
            ...(preset ? { preset } : {}),
            ...(outDir ? { out: outDir } : {}),
            format: parseFormat(str(opts, "format") ?? "mermaid", ["mermaid", "dot"] as const),
          }),
        );
        return EXIT.ok;
      }
      case "local": {
        const { runLocal } = await import("./local.js");
        const workers = positiveInt(opts, "workers");
        const port = positiveInt(opts, "port");
        const logFormat = str(opts, "log-format");
        return await runLocal({
          env: str(opts, "env") ?? "dev",
          workers: workers ?? 2,
          ...(port ? { port } : {}),
          ...(logFormat !== undefined ? { logFormat: parseFormat(logFormat, ["pretty", "json"] as const, "--log-format") } : {}),
        });
      }
      default:
        throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMANDS)}`);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return EXIT.invalid;
    }
    if (e instanceof UsageError) {
      err(`jobstack: ${e.message} (see jobstack --help)`);
      return EXIT.usage;
    }
    if (e instanceof CommandError || e instanceof SynthOutputError) {
      err(`jobstack: ${e.message}`);
      return EXIT.invalid;
    }
    throw e;
  }
}

function parseFormat<T extends string>(value: string, allowed: readonly T[], flag = "--format"): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${value}"${didYouMean(value, allowed)}`);
}

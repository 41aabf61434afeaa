/**
 * The `jobstack` command as a function (cli/main.ts calls it). Parses arguments, dispatches to one module per command, and maps
 * failures to exit codes: 1 for invalid configuration or policy violations, 2 for usage.
 * Commands are imported lazily so `jobstack presets` never loads the Terraform providers.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "../stacks/config/errors.js";
import { EXIT, USAGE, UsageError } from "./usage.js";

type Options = Record<string, string | boolean | undefined>;

const OPTIONS = {
  env: { type: "string" },
  preset: { type: "string" },
  json: { type: "boolean", default: false },
  format: { type: "string" },
  out: { type: "string" },
  matrix: { type: "boolean", default: false },
  workers: { type: "string" },
  port: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

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
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    const opts = values as Options;
    const [command, ...rest] = positionals;
    if (opts.help || command === undefined || command === "help") {
      out(USAGE);
      return command === undefined && !opts.help ? EXIT.usage : EXIT.ok;
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
        out(explainCommand({ env: required(opts, "env", "explain"), ...(preset ? { preset } : {}), json: opts.json === true }));
        return EXIT.ok;
      }
      case "validate": {
        const { validateCommand } = await import("./commands/validate.js");
        return await validateCommand(
          {
            ...(str(opts, "env") ? { env: str(opts, "env") } : {}),
            ...(preset ? { preset } : {}),
            ...(str(opts, "out") ? { out: str(opts, "out") } : {}),
            format: parseFormat(str(opts, "format") ?? "text", ["text", "json", "junit"] as const),
            matrix: opts.matrix === true,
          },
          out,
        );
      }
      case "graph": {
        const { graphCommand } = await import("./commands/graph.js");
        out(
          await graphCommand({
            env: required(opts, "env", "graph"),
            ...(preset ? { preset } : {}),
            ...(str(opts, "out") ? { out: str(opts, "out") } : {}),
            format: parseFormat(str(opts, "format") ?? "mermaid", ["mermaid", "dot"] as const),
          }),
        );
        return EXIT.ok;
      }
      case "local": {
        const { runLocal } = await import("./local.js");
        const workers = positiveInt(opts, "workers");
        const port = positiveInt(opts, "port");
        return await runLocal({ env: str(opts, "env") ?? "dev", workers: workers ?? 2, ...(port ? { port } : {}) });
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(e.message);
      return EXIT.invalid;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      err(`${(e as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    throw e;
  }
}

function parseFormat<T extends string>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--format must be one of ${allowed.join(", ")}, got "${value}"`);
}

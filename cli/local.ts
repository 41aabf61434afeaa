/**
 * `jobstack local [--env dev] [--workers N] [--port P]`: the whole job system on this machine.
 *
 * Applies the migrations, starts the API and N workers as child processes (the same entry files
 * as `npm run api` / `npm run worker`), configured by the environment variables the environment's
 * preset translates to (`serviceEnvironment`), plus connection URLs and a fresh API token.
 * Prints the URL and the token, and on SIGINT/SIGTERM forwards one SIGTERM to every child (they
 * drain gracefully), then returns once all have exited. A second signal kills them at once.
 * Exit codes as the services' (services/core/run-service.ts): 0 after a clean stop, 1 when a
 * child failed, 130 when a second signal forced the stop.
 *
 * A worker environment with `runtime: jvm` still runs the Node worker here; its JVM flags only
 * matter in a container. Both processes load the environment's handler modules (its `handlers:`
 * list, else every module in handlers/), from the repository root.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { commandSelection, loadEnvironments, serviceEnvironment } from "../stacks/config/index.js";
import type { ServiceEnvVars } from "../services/core/env-contract.js";
import { coerceError } from "../services/core/errors.js";
import { FORCED_EXIT_CODE, onShutdownSignals, type ShutdownSignal } from "../services/core/signals.js";
import { migrate } from "../services/migrations/migrate.js";
import { prettyFactory } from "pino-pretty";
import { startChild, type Child } from "./local-children.js";
import { unreachable } from "./local-preflight.js";
import { CommandError } from "./usage.js";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export const LOCAL_DEFAULTS = {
  databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: "redis://127.0.0.1:6379",
  amqpUrl: "amqp://guest:guest@127.0.0.1:5672",
  port: 8080,
} as const;

export interface LocalOptions {
  /** Environment file name under stacks/environments (its preset sets concurrency and Node flags). */
  readonly env: string;
  readonly workers: number;
  /** @default $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test */
  readonly databaseUrl?: string;
  /** @default $REDIS_URL, else redis://127.0.0.1:6379 */
  readonly redisUrl?: string;
  /** @default $AMQP_URL, else amqp://guest:guest@127.0.0.1:5672 */
  readonly amqpUrl?: string;
  /** API port. @default 8080 */
  readonly port?: number;
  /** Worker i gets HEALTH_PORT = base + i; 0 lets each pick a free port. @default port + 1 */
  readonly healthPortBase?: number;
  /** Variables laid over both processes' environment last (tests: a private JOB_QUEUE). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Where output lines go. @default stdout */
  readonly out?: (line: string) => void;
  /** Aborting it stops everything, like SIGTERM (tests, embedding). */
  readonly signal?: AbortSignal;
  /** Called once the API is ready. */
  readonly onReady?: (info: LocalInfo) => void;
  /** How long the API may take to answer /readyz. @default 60000 */
  readonly readyTimeoutMs?: number;
  /**
   * `pretty`: one readable line per log record, at info unless LOG_LEVEL says otherwise.
   * `json`: the services' JSON lines as they are, at the environment's log level.
   * @default pretty on a terminal, json otherwise
   */
  readonly logFormat?: "pretty" | "json";
}

export interface LocalInfo {
  readonly url: string;
  readonly token: string;
  /** OPERATOR_TOKEN: may also retry and cancel (docs/api-access.md). */
  readonly operatorToken: string;
  readonly pids: readonly number[];
}

/** Runs until a signal (or `options.signal`) stops it; resolves with the exit code for the CLI. */
export async function runLocal(options: LocalOptions): Promise<number> {
  const out = options.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`--workers must be a positive integer (got ${options.workers})`);
  const [resolved] = loadEnvironments(commandSelection({ env: options.env }));
  if (!resolved) throw new Error(`no environment "${options.env}"`);
  const port = options.port ?? LOCAL_DEFAULTS.port;
  const healthPortBase = options.healthPortBase ?? port + 1;
  // Option, then the variable the services themselves read, then the local servers.
  const env = process.env;
  const connections = {
    DATABASE_URL: options.databaseUrl ?? nonEmpty(env.DATABASE_URL) ?? LOCAL_DEFAULTS.databaseUrl,
    REDIS_URL: options.redisUrl ?? nonEmpty(env.REDIS_URL) ?? LOCAL_DEFAULTS.redisUrl,
    AMQP_URL: options.amqpUrl ?? nonEmpty(env.AMQP_URL) ?? LOCAL_DEFAULTS.amqpUrl,
  };
  // 32 random bytes: a fresh secret every run, never written anywhere but this terminal.
  const token = randomBytes(32).toString("base64url");
  const operatorToken = randomBytes(32).toString("base64url");

  const problems = await unreachable(connections);
  if (problems.length > 0) throw new CommandError(problems.join("\n"));
  const { applied } = await migrate(connections.DATABASE_URL);
  out(applied.length > 0 ? `migrations applied: ${applied.join(", ")}` : "schema up to date");

  const pretty = (options.logFormat ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  // Readable lines for a person at a terminal: info unless LOG_LEVEL asks for more, and the
  // worker's configuration dump left to the JSON form.
  const logging: ServiceEnvVars = pretty ? { LOG_LEVEL: nonEmpty(process.env.LOG_LEVEL) ?? "info" } : {};
  const format = pretty ? prettyLine(process.stdout.isTTY === true) : undefined;
  const base = { ...stringEnv(process.env), ...connections };
  const children: Child[] = [];
  // The service variables are typed by the contract (services/core/env-contract.ts); `base`
  // (this shell's environment) and `extraEnv` (tests) are laid under and over them.
  const spawnService = (name: string, entry: string, vars: ServiceEnvVars) => {
    const env = { ...base, ...stringEnv(vars), ...options.extraEnv };
    children.push(startChild({ name, entry: path.join(ROOT, entry), env, cwd: ROOT, out, ...(format ? { format } : {}) }));
  };
  spawnService("api", "services/api/main.ts", {
    ...serviceEnvironment(resolved, "api"),
    ...logging,
    PORT: String(port),
    // The token is printed to the terminal: keep the API off the network.
    HOST: "127.0.0.1",
    API_TOKEN: token,
    OPERATOR_TOKEN: operatorToken,
  });
  for (let i = 1; i <= options.workers; i++) {
    spawnService(`worker-${i}`, "services/worker/main.ts", {
      ...serviceEnvironment(resolved, "worker"),
      ...logging,
      HEALTH_PORT: String(healthPortBase === 0 ? 0 : healthPortBase + i - 1),
      HOST: "127.0.0.1",
      WORKER_ID: `local-worker-${i}`,
    });
  }

  const url = `http://127.0.0.1:${port}`;
  const stopper = new Stopper(children, out);
  // Last resort: if this process dies abruptly, do not leave detached children behind.
  const killOnExit = () => children.forEach((c) => c.signal("SIGKILL"));
  process.on("exit", killOnExit);
  const removeSignalHandlers = onShutdownSignals({
    // A child that failed may have started the stop already: then the first signal kills.
    drain: (sig) => stopper.stop(sig),
    force: (sig) => stopper.kill(sig),
  });
  const onAbort = () => stopper.stop("SIGTERM");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  try {
    // A child that exits on its own (bad config, crash, port taken) takes the others down:
    // half a system is worse than none for a local run.
    for (const child of children) {
      void child.exited.then((code) => {
        if (!stopper.stopping) {
          out(`${child.name} exited with code ${code}; stopping the others`);
          stopper.failed = true;
          stopper.stop("SIGTERM");
        }
      });
    }
    const ready = await waitReady(url, options.readyTimeoutMs ?? 60_000, () => stopper.stopping);
    if (ready === true) {
      out("");
      out(`jobstack (${options.env}, preset ${resolved.presetSelection.name}): API on ${url}, ${options.workers} worker(s)`);
      const from = resolved.handlers.from === "environment" ? `${resolved.file} handlers` : "handlers/";
      out(`handler modules (${from}): ${resolved.handlers.modules.join(", ") || "none, builtins only"}`);
      out(`API token: ${token}`);
      out(`operator token (may also retry and cancel): ${operatorToken}`);
      // The page asks for a token once and keeps it out of the URL (docs/dashboard.md).
      out(`dashboard: ${url}/ui (paste a token above)`);
      out(`try: curl -s -H "authorization: Bearer ${token}" -H "content-type: application/json" -d '{"type":"noop"}' ${url}/jobs`);
      out("Ctrl-C stops everything.");
      options.onReady?.({ url, token, operatorToken, pids: children.map((c) => c.pid) });
    } else if (!stopper.stopping) {
      out(`the API did not become ready at ${url}/readyz (last attempt: ${ready}); stopping`);
      stopper.failed = true;
      stopper.stop("SIGTERM");
    }
    const codes = await Promise.all(children.map((c) => c.exited));
    if (stopper.forcedBy) return FORCED_EXIT_CODE;
    const clean = codes.every((code) => code === 0);
    return stopper.failed || !clean ? 1 : 0;
  } finally {
    removeSignalHandlers();
    process.off("exit", killOnExit);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** First stop: one SIGTERM to each child (graceful drain). Second: SIGKILL. */
class Stopper {
  stopping = false;
  failed = false;
  /** The signal that forced the stop, if one did: the exit code is then FORCED_EXIT_CODE. */
  forcedBy: ShutdownSignal | undefined;
  constructor(
    private readonly children: readonly Child[],
    private readonly out: (line: string) => void,
  ) {}

  stop(reason: ShutdownSignal): void {
    if (this.stopping) {
      this.kill(reason);
      return;
    }
    this.stopping = true;
    this.out(`${reason}: stopping ${this.children.length} process(es) gracefully (again to kill)`);
    this.children.forEach((c) => c.signal("SIGTERM"));
  }

  kill(reason: ShutdownSignal): void {
    this.forcedBy ??= reason;
    this.out(`${reason} again: killing every process now`);
    this.children.forEach((c) => c.signal("SIGKILL"));
  }
}

/** Polls /readyz until 200: true; at the deadline or when `cancelled()` turns true, what the last attempt got. */
async function waitReady(url: string, timeoutMs: number, cancelled: () => boolean): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let last = "none made";
  while (Date.now() < deadline && !cancelled()) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return true;
      last = `answered ${res.status}`;
    } catch (raw) {
      const err = coerceError(raw); // not listening yet, most likely: fetch says why in `cause`
      const why = err.cause instanceof Error ? ((err.cause as { code?: string }).code ?? err.cause.message) : "";
      last = why ? `${err.message} (${why})` : err.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/** A pino JSON line as one readable line (pino-pretty); anything else passes through. */
export function prettyLine(colorize: boolean): (line: string) => string {
  const pretty = prettyFactory({ colorize, ignore: "pid,hostname,config", translateTime: "HH:MM:ss", singleLine: true });
  return (line) => {
    if (!line.startsWith("{")) return line;
    try {
      return pretty(JSON.parse(line) as Record<string, unknown>).trimEnd();
    } catch {
      return line;
    }
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function stringEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * vitest globalSetup: makes `npm test` work on a machine where Postgres, Redis and RabbitMQ are
 * installed but not running (or not on their default ports). For each server: if the address in
 * harness/servers.ts answers, use it; otherwise start a throwaway one from the installed
 * binaries (test/support/throwaway.ts), export its URL for every test (SERVER_ENV), and stop it
 * when the run ends. A missing binary ends the run with one line naming the Debian package.
 */
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import { delimiter, join } from "node:path";
import { SERVER_ENV, serverUrl, type ServerKind } from "../../harness/servers.js";

interface Started {
  readonly url: string;
  stop(): Promise<void>;
}

export interface ServerSetupOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Finds an executable; undefined when it is not installed. @default PATH and Debian's folders */
  readonly findBinary?: (name: string) => string | undefined;
  /** Where progress lines go. @default stderr */
  readonly log?: (line: string) => void;
}

const BINARIES: Record<ServerKind, { binary: string; debianPackage: string; what: string }> = {
  postgres: { binary: "postgres", debianPackage: "postgresql", what: "PostgreSQL" },
  redis: { binary: "redis-server", debianPackage: "redis-server", what: "Redis" },
  rabbitmq: { binary: "rabbitmq-server", debianPackage: "rabbitmq-server", what: "RabbitMQ" },
};

function defaultFindBinary(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  if (name === "postgres") {
    // Debian keeps the server binaries out of PATH, one folder per major.
    const root = "/usr/lib/postgresql";
    if (existsSync(root)) for (const major of readdirSync(root)) dirs.push(join(root, major, "bin"));
  }
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

/** Does something accept a TCP connection at the URL's host and port? */
function answers(url: string, defaultPort: number): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const u = new URL(url);
    host = u.hostname || "127.0.0.1";
    port = Number(u.port || defaultPort);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2_000, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => done(true));
  });
}

const DEFAULT_PORTS: Record<ServerKind, number> = { postgres: 5432, redis: 6379, rabbitmq: 5672 };

/** Resolves every server, starting throwaways as needed; returns the teardown. */
export async function setupServers(options: ServerSetupOptions = {}): Promise<() => Promise<void>> {
  const env = options.env ?? process.env;
  const findBinary = options.findBinary ?? defaultFindBinary;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kinds = Object.keys(SERVER_ENV) as ServerKind[];
  const missing = await Promise.all(kinds.map(async (kind) => ((await answers(serverUrl(kind, env), DEFAULT_PORTS[kind])) ? undefined : kind)));
  const toStart = missing.filter((k): k is ServerKind => k !== undefined);

  const notInstalled = toStart.filter((kind) => findBinary(BINARIES[kind].binary) === undefined);
  if (notInstalled.length > 0) {
    const kind = notInstalled[0]!;
    const b = BINARIES[kind];
    throw new Error(
      `${b.what} does not answer at ${serverUrl(kind, env)} and ${b.binary} is not installed: apt-get install ${notInstalled.map((k) => BINARIES[k].debianPackage).join(" ")}`,
    );
  }

  const started: Started[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
  };
  try {
    const { startPostgres, startRabbitMQ, startRedis } = await import("../support/throwaway.js");
    await Promise.all(
      toStart.map(async (kind) => {
        log(`[test servers] ${BINARIES[kind].what} does not answer at ${serverUrl(kind, env)}: starting a throwaway one`);
        const server = kind === "postgres" ? await startPostgres() : kind === "redis" ? await startRedis() : await startRabbitMQ();
        started.push(server);
        env[SERVER_ENV[kind]] = server.url;
      }),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  for (const kind of kinds) if (env[SERVER_ENV[kind]] === undefined) env[SERVER_ENV[kind]] = serverUrl(kind, env);
  return stopAll;
}

export default async function setup(): Promise<() => Promise<void>> {
  return setupServers();
}

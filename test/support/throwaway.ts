/**
 * Throwaway Redis, Postgres and RabbitMQ servers for tests that need to own their fault (kill,
 * freeze, restart: docs/guarantees.md proves its promises that way): each starts on spare ports
 * with its data in a fresh temp dir, and never touches the machine's shared servers on
 * 5432/6379/5672.
 *
 *   const pg = await startPostgres({ settings: { shared_buffers: "64MB" } });
 *   try { ... pg.url ... await pg.kill(); await pg.restart?.(); ... } finally { await pg.stop(); }
 *
 * Lifecycle, the same for all three:
 * - `stop()`    graceful shutdown, then the temp dir is removed. Final; safe to call twice, and
 *               after `kill()`.
 * - `kill()`    SIGKILL of the server and all its child processes, as a container kill or OOM
 *               kill would do. The data dir is kept, so `restart()` can bring the server back.
 * - `restart()` (graceful stop if running, then) start again on the same port with the same data.
 *               Redis runs with `--save "" --appendonly no` unless `args` say otherwise, so a
 *               restarted Redis is empty — pass `args: ["--appendonly", "yes"]` to keep data.
 *
 * Options: `startRedis({ args })` extra redis-server arguments; `startPostgres({ settings })` extra
 * `-c name=value` settings; `startRabbitMQ({ conf })` extra rabbitmq.conf lines (its `listeners.*`
 * lines are dropped: the throwaway owns the listener). `startRabbitMQ` also returns the Erlang
 * `node` name for `rabbitmqctl -n`.
 *
 * Postgres clusters are copied from a template made by initdb once and cached in
 * `<tmp>/jobstack-postgres-template-<major>` (delete it to force a fresh initdb).
 * If a test forgets `stop()` or the worker is ended by a signal, test/support/procs.ts kills
 * what is still running and removes the temp dirs when the test process exits.
 *
 * When we run as root (CI, this machine), Postgres runs as `postgres` and RabbitMQ as `rabbitmq`
 * (Debian's wrapper drops to that user anyway), so their temp dirs are chowned to them. RabbitMQ
 * gets its own rabbitmq.conf, because the machine's /etc/rabbitmq/rabbitmq.conf pins
 * `listeners.tcp.local = 127.0.0.1:5672` and `RABBITMQ_NODE_PORT` would not win over it.
 * `rabbitmqctl` run as root goes through the same wrapper (`su rabbitmq`), so it reads the same
 * Erlang cookie (/var/lib/rabbitmq/.erlang.cookie) as the server and `stop` works.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import amqp from "amqplib";
import { spareport, waitPortClosed, waitUntil } from "../../harness/ports.js";
import { alive, chownTree, descendants, killTree, serviceUser, track, waitDead, type UnixUser } from "./procs.js";

export { spareport } from "../../harness/ports.js";

const execFileP = promisify(execFile);

export interface Throwaway {
  /** Connection URL: redis://, postgres:// or amqp:// on 127.0.0.1. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding data, logs and sockets (removed by `stop()`). */
  readonly dir: string;
  /** Graceful shutdown and cleanup; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL the server and its children; data is kept for `restart()`. */
  kill(): Promise<void>;
  /** Start again on the same port with the same data. */
  restart?(): Promise<void>;
}

function tmpdir(kind: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `jobstack-${kind}-`));
  chmodSync(dir, 0o755);
  return dir;
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Spawns a long-running server with stdout+stderr appended to `log`. */
function spawnServer(cmd: string, args: string[], log: string, user: UnixUser | undefined, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(log, "a");
  try {
    const child = spawn(cmd, args, {
      stdio: ["ignore", fd, fd],
      env: env ?? process.env,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    child.on("error", () => {
      /* reported through the readiness check and the log */
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Shared lifecycle: subclasses say how to start, how to stop gracefully, and which pid to kill. */
abstract class Server implements Throwaway {
  abstract readonly url: string;
  private removed = false;
  private readonly untrack: () => void;

  protected constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.untrack = track({ pid: () => this.pid(), dir });
  }

  protected abstract pid(): number | undefined;
  protected abstract launch(): Promise<void>;
  protected abstract shutdown(): Promise<void>;

  protected running(): boolean {
    const p = this.pid();
    return p !== undefined && alive(p);
  }

  async stop(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    try {
      if (this.running()) await this.shutdown();
      await waitPortClosed(this.port);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      this.untrack();
    }
  }

  async kill(): Promise<void> {
    const p = this.pid();
    if (p === undefined || !alive(p)) return;
    const tree = [p, ...descendants(p)];
    killTree(p);
    await waitDead(tree);
    await waitPortClosed(this.port);
  }

  async restart(): Promise<void> {
    if (this.removed) throw new Error(`cannot restart a stopped throwaway (${this.url})`);
    if (this.running()) await this.shutdown();
    await waitPortClosed(this.port);
    await this.launch();
  }
}

// ---- Redis ---------------------------------------------------------------------------------

export interface RedisOptions {
  /** Extra redis-server arguments, appended after the defaults (so they win). */
  readonly args?: readonly string[];
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      // +PONG, or -NOAUTH when the caller passed --requirepass: either way the server is up.
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG") || buf.startsWith("-NOAUTH"));
    });
  });
}

class RedisServer extends Server {
  readonly url: string;
  private child: ChildProcess | undefined;

  constructor(port: number, dir: string, private readonly extra: readonly string[]) {
    super(port, dir);
    this.url = `redis://127.0.0.1:${port}`;
  }

  protected pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  async launch(): Promise<void> {
    const log = path.join(this.dir, "redis.log");
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", this.dir, "--daemonize", "no", ...this.extra];
    const child = spawnServer("redis-server", args, log, undefined);
    this.child = child;
    await waitUntil(`redis-server on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return redisPing(this.port);
    }, 30_000, () => tail(log));
  }

  protected async shutdown(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill("SIGTERM");
    await exited(c);
  }
}

export async function startRedis(opts: RedisOptions = {}): Promise<Throwaway> {
  const server = new RedisServer(await spareport(), tmpdir("redis"), opts.args ?? []);
  try {
    await server.launch();
  } catch (err) {
    await server.kill().catch(() => undefined);
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}

// ---- Postgres ------------------------------------------------------------------------------

export interface PostgresOptions {
  /** Extra `-c name=value` settings, applied after the defaults (so they win). */
  readonly settings?: Readonly<Record<string, string>>;
}

/** The newest installed major's bin dir, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root).filter((d) => /^\d+$/.test(d) && existsSync(path.join(root, d, "bin", "postgres")))
    : [];
  majors.sort((a, b) => Number(b) - Number(a));
  if (majors[0] === undefined) throw new Error(`no PostgreSQL binaries under ${root}/*/bin`);
  return path.join(root, majors[0], "bin");
}

let templateDir: Promise<string> | undefined;

/**
 * A freshly initdb'd data directory to copy from, shared by every test process as a cache:
 * `<tmp>/jobstack-postgres-template-<major>/data`. It is built in a private dir and renamed into
 * place (atomic), so concurrent first runs cannot see a half-made template; the loser of that
 * race throws its copy away. It is left in place on purpose; delete it to force a fresh initdb.
 */
function postgresTemplate(bin: string, user: UnixUser | undefined): Promise<string> {
  templateDir ??= (async () => {
    const major = path.basename(path.dirname(bin));
    const target = path.join(os.tmpdir(), `jobstack-postgres-template-${major}`);
    const data = path.join(target, "data");
    if (existsSync(path.join(data, "PG_VERSION"))) return data;
    const build = tmpdir(`postgres-template-build`);
    try {
      chownTree(build, user);
      // --no-sync: a throwaway cluster need not survive an OS crash; initdb takes ~0.8 s instead of ~3 s.
      await execFileP(path.join(bin, "initdb"), ["-D", path.join(build, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], {
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
        env: { ...process.env, LC_ALL: "C" },
      });
      try {
        renameSync(build, target);
      } catch (err) {
        if (!existsSync(path.join(data, "PG_VERSION"))) throw err; // not just a lost race
      }
      return data;
    } finally {
      rmSync(build, { recursive: true, force: true });
    }
  })();
  const pending = templateDir;
  pending.catch(() => {
    if (templateDir === pending) templateDir = undefined; // let the next caller retry
  });
  return pending;
}

class PostgresServer extends Server {
  readonly url: string;
  private child: ChildProcess | undefined;
  private readonly bin = postgresBinDir();
  private readonly user = serviceUser("postgres");

  constructor(port: number, dir: string, private readonly settings: Readonly<Record<string, string>>) {
    super(port, dir);
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  protected pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  async init(): Promise<void> {
    chownTree(this.dir, this.user);
    // initdb once per test process, then copy: `cp -a` of a fresh cluster (~40 MB) is several
    // times cheaper than initdb, which matters when a file starts many clusters at once.
    const template = await postgresTemplate(this.bin, this.user);
    await execFileP("cp", ["-a", template, path.join(this.dir, "data")]);
  }

  async launch(): Promise<void> {
    const log = path.join(this.dir, "postgres.log");
    if (!existsSync(log)) {
      writeFileSync(log, "");
      chownTree(log, this.user);
    }
    // fsync=off: a process crash (what kill() simulates) loses nothing, since the OS page cache
    // survives it; only a machine crash would, and a throwaway does not care.
    const base: Record<string, string> = { listen_addresses: "127.0.0.1", fsync: "off", unix_socket_permissions: "0777" };
    const args = ["-D", path.join(this.dir, "data"), "-p", String(this.port), "-k", this.dir];
    for (const [k, v] of Object.entries({ ...base, ...this.settings })) args.push("-c", `${k}=${v}`);
    const child = spawnServer(path.join(this.bin, "postgres"), args, log, this.user);
    this.child = child;
    await waitUntil(`postgres on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      client.on("error", () => undefined);
      try {
        await client.connect();
        await client.query("select 1");
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, 60_000, () => tail(log));
  }

  protected async shutdown(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill("SIGINT"); // "fast" shutdown: roll back open transactions, checkpoint, exit
    await exited(c);
  }
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<Throwaway> {
  const server = new PostgresServer(await spareport(), tmpdir("postgres"), opts.settings ?? {});
  try {
    await server.init();
    await server.launch();
  } catch (err) {
    await server.kill().catch(() => undefined);
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}

// ---- RabbitMQ ------------------------------------------------------------------------------

let rabbitSeq = 0;

class RabbitServer extends Server {
  readonly url: string;
  readonly node: string;
  private readonly pidFile: string;

  constructor(
    port: number,
    private readonly distPort: number,
    dir: string,
    private readonly extraConf = "",
    private readonly plugins: readonly string[] = [],
  ) {
    super(port, dir);
    this.url = `amqp://guest:guest@127.0.0.1:${port}`;
    this.node = `jobstack-t${process.pid}-${++rabbitSeq}-${port}@localhost`;
    this.pidFile = path.join(dir, "pid");
  }

  protected pid(): number | undefined {
    try {
      const p = Number(readFileSync(this.pidFile, "utf8").trim());
      return Number.isInteger(p) && p > 0 ? p : undefined;
    } catch {
      return undefined;
    }
  }

  init(): void {
    writeFileSync(path.join(this.dir, "enabled_plugins"), `[${this.plugins.join(",")}].\n`);
    // The throwaway owns the listener: `listeners.*` lines of the caller's conf are dropped, so a
    // production conf (listeners.tcp.default = 5672) cannot collide with the shared broker.
    const extra = this.extraConf
      .split("\n")
      .filter((line) => !/^\s*listeners\./.test(line))
      .join("\n");
    writeFileSync(path.join(this.dir, "rabbitmq.conf"), `${extra}\nlisteners.tcp.local = 127.0.0.1:${this.port}\n`);
    chownTree(this.dir, serviceUser("rabbitmq"));
  }

  async launch(): Promise<void> {
    const d = this.dir;
    rmSync(this.pidFile, { force: true });
    const env = {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONFIG_FILE: path.join(d, "rabbitmq.conf"),
      RABBITMQ_MNESIA_BASE: path.join(d, "mnesia"),
      RABBITMQ_LOG_BASE: path.join(d, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, "enabled_plugins"),
      RABBITMQ_PID_FILE: this.pidFile,
    };
    await execFileP("rabbitmq-server", ["-detached"], { env, cwd: d });
    const log = path.join(d, "log", `${this.node}.log`);
    await waitUntil(`rabbitmq node ${this.node} on ${this.port}`, async () => {
      const conn = await amqp.connect(this.url);
      await conn.close();
      return true;
    }, 120_000, () => tail(log));
  }

  protected async shutdown(): Promise<void> {
    const p = this.pid();
    // With the pid file, `stop` returns only once the node's OS process has exited.
    await execFileP("rabbitmqctl", ["-n", this.node, "stop", this.pidFile]).catch(() => undefined);
    if (p !== undefined) {
      await waitDead([p]).catch(() => killTree(p));
    }
  }
}

export interface RabbitMQOptions {
  /** rabbitmq.conf lines to add (e.g. a derived conf body); `listeners.*` lines are ignored. */
  readonly conf?: string;
  /** Plugins to enable, e.g. ["rabbitmq_management"] (its port then comes from `management.tcp.port` in conf). @default none */
  readonly plugins?: readonly string[];
}

export interface RabbitThrowaway extends Throwaway {
  /** The Erlang node name, for `rabbitmqctl -n <node> ...`. */
  readonly node: string;
}

export async function startRabbitMQ(opts: RabbitMQOptions = {}): Promise<RabbitThrowaway> {
  const port = await spareport();
  let dist = await spareport();
  while (dist === port) dist = await spareport();
  const server = new RabbitServer(port, dist, tmpdir("rabbitmq"), opts.conf, opts.plugins);
  try {
    server.init();
    await server.launch();
  } catch (err) {
    await server.kill().catch(() => undefined);
    await server.stop().catch(() => undefined);
    throw err;
  }
  return server;
}

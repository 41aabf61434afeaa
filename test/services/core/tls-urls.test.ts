/**
 * The connection URLs the stacks generate for external services (stacks/topology.ts
 * `connectionSecrets`) make the clients in services/core use TLS: each client is pointed at a
 * plain TCP listener that records the first bytes it receives. A TLS client opens with a
 * handshake record (0x16 0x03 …); Postgres clients first send an SSLRequest (length 8, code
 * 80877103) when sslmode asks for TLS, and a plain StartupMessage when it is `disable`.
 * The same URLs, as node-postgres reads them, carry the verification the mode promises.
 */
import net from "node:net";
import pgLib from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "../../../services/core/cache.js";
import { createPool } from "../../../services/core/db.js";
import { JobQueue } from "../../../services/core/queue.js";
import { connectionSecrets, type SecretValue } from "../../../stacks/topology.js";
import { environmentVariant } from "../../stacks/kubernetes/support.js";

const PASSWORD = "p@ss/w,rd:1";
const fill = (v: SecretValue): string => v.parts.map((p) => (typeof p === "string" ? p : p.encode === "url" ? encodeURIComponent(PASSWORD) : PASSWORD)).join("");

let server: net.Server;
let port = 0;
let received: Promise<Buffer>;
let deliver: (b: Buffer) => void;
const expectBytes = () => (received = new Promise<Buffer>((r) => (deliver = r)));

beforeAll(async () => {
  server = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.once("data", (d) => {
      deliver(d);
      sock.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function urls(external: Record<string, unknown>, tier = "prod") {
  const env = environmentVariant("prod", "prod-tls", (doc) => {
    doc.tier = tier;
    doc.external = external;
    delete doc.rabbitmq;
  });
  const s = connectionSecrets(env);
  return { database: fill(s.DATABASE_URL), redis: fill(s.REDIS_URL), amqp: fill(s.AMQP_URL) };
}
const pg = (sslMode: string) => ({ host: "127.0.0.1", port, database: "jobs", user: "svc", sslMode, maxConnections: 1000 });

const isTlsHello = (b: Buffer) => b[0] === 0x16 && b[1] === 0x03;
const isSslRequest = (b: Buffer) => b.length >= 8 && b.readInt32BE(0) === 8 && b.readInt32BE(4) === 80877103;
const isStartup = (b: Buffer) => b.length >= 8 && b.readInt32BE(4) === 196608;

describe("external Postgres: sslmode reaches node-postgres", () => {
  it.each(["verify-full", "require"])("sslmode=%s asks the server for TLS before anything else", async (mode) => {
    const { database } = urls({ postgres: pg(mode) });
    expect(database.startsWith(`postgres://svc:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/jobs?sslmode=${mode}`)).toBe(true);
    expectBytes();
    const pool = createPool({ databaseUrl: database, dbPoolSize: 1 });
    await pool.query("select 1").catch(() => undefined);
    await pool.end();
    expect(isSslRequest(await received)).toBe(true);
  });

  it("sslmode=disable (dev only) sends a plain StartupMessage", async () => {
    const { database } = urls({ postgres: pg("disable") }, "dev");
    expectBytes();
    const pool = createPool({ databaseUrl: database, dbPoolSize: 1 });
    await pool.query("select 1").catch(() => undefined);
    await pool.end();
    const first = await received;
    expect(isSslRequest(first)).toBe(false);
    expect(isStartup(first)).toBe(true);
  });

  it("verify-full verifies the certificate; require encrypts without verifying (libpq's meaning)", () => {
    // What a pg.Client made from the URL will do (its parsed connection parameters).
    const params = (url: string) => (new pgLib.Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown; password: string } }).connectionParameters;
    const full = params(urls({ postgres: pg("verify-full") }).database);
    expect(full.ssl).toEqual({}); // Node's TLS defaults: certificate and host name verified
    expect(full.password).toBe(PASSWORD);
    expect(params(urls({ postgres: pg("require") }).database).ssl).toEqual({ rejectUnauthorized: false });
  });
});

describe("external Redis: rediss:// reaches ioredis", () => {
  it("opens a TLS handshake", async () => {
    const { redis } = urls({ redis: { host: "127.0.0.1", port } });
    expect(redis.startsWith("rediss://")).toBe(true);
    expectBytes();
    const client = createRedis(redis);
    const first = await received;
    client.disconnect();
    expect(isTlsHello(first)).toBe(true);
  });

  it("speaks plain RESP with tls: false (dev only)", async () => {
    const { redis } = urls({ redis: { host: "127.0.0.1", port, tls: false } }, "dev");
    expectBytes();
    const client = createRedis(redis);
    const first = await received;
    client.disconnect();
    expect(first.toString("latin1").startsWith("*")).toBe(true);
  });
});

describe("external RabbitMQ: amqps:// reaches amqplib", () => {
  it("opens a TLS handshake, through the services' JobQueue", async () => {
    const { amqp } = urls({ rabbitmq: { host: "127.0.0.1", port, user: "svc", vhost: "/jobs" } });
    expect(amqp).toMatch(/^amqps:\/\/svc:.*@127\.0\.0\.1:\d+\/%2Fjobs$/);
    expectBytes();
    const queue = new JobQueue({ url: amqp, queue: "unused" });
    const connecting = queue.connect(1_000).catch(() => undefined);
    const first = await received;
    await connecting;
    await queue.close();
    expect(isTlsHello(first)).toBe(true);
  });

  it("sends the AMQP protocol header with tls: false (dev only)", async () => {
    const { amqp } = urls({ rabbitmq: { host: "127.0.0.1", port, user: "svc", tls: false } }, "dev");
    expectBytes();
    const queue = new JobQueue({ url: amqp, queue: "unused" });
    const connecting = queue.connect(1_000).catch(() => undefined);
    const first = await received;
    await connecting;
    await queue.close();
    expect(first.subarray(0, 4).toString("latin1")).toBe("AMQP");
  });
});

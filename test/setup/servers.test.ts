/**
 * The test command on a machine whose servers are stopped: pointed at closed ports (the env
 * override, never by stopping the shared services), the global setup starts throwaway servers
 * from the installed binaries, exports their URLs, and stops them at the end.
 */
import amqp from "amqplib";
import { Redis } from "ioredis";
import net from "node:net";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { setupServers } from "./servers.js";
import { AMQP_URL, DEFAULT_SERVER_URLS, PG_ADMIN_URL, REDIS_URL, SERVER_ENV } from "../../harness/servers.js";
import { spareport } from "../../harness/ports.js";

async function closedPorts() {
  return { pg: await spareport(), redis: await spareport(), amqp: await spareport() };
}

const listening = (url: string) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(url);
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

describe("test servers", () => {
  it("uses the servers that answer and starts nothing", async () => {
    // The servers this run uses answer by construction (shared ones, or the run's throwaways).
    const answering = { postgres: PG_ADMIN_URL, redis: REDIS_URL, rabbitmq: AMQP_URL };
    const env: NodeJS.ProcessEnv = {
      [SERVER_ENV.postgres]: answering.postgres,
      [SERVER_ENV.redis]: answering.redis,
      [SERVER_ENV.rabbitmq]: answering.rabbitmq,
    };
    const log: string[] = [];
    const teardown = await setupServers({ env, log: (l) => log.push(l) });
    await teardown();
    expect(log).toEqual([]);
    expect(env[SERVER_ENV.postgres]).toBe(answering.postgres);
    expect(env[SERVER_ENV.redis]).toBe(answering.redis);
    expect(env[SERVER_ENV.rabbitmq]).toBe(answering.rabbitmq);
  });

  it("defaults to the machine's own servers on their standard ports", () => {
    expect(DEFAULT_SERVER_URLS).toEqual({
      postgres: "postgres://postgres@127.0.0.1:5432/test",
      redis: "redis://127.0.0.1:6379/0",
      rabbitmq: "amqp://guest:guest@127.0.0.1:5672",
    });
  });

  it("starts throwaway servers for addresses that do not answer, exports them, and stops them", async () => {
    const p = await closedPorts();
    const env: NodeJS.ProcessEnv = {
      [SERVER_ENV.postgres]: `postgres://postgres@127.0.0.1:${p.pg}/test`,
      [SERVER_ENV.redis]: `redis://127.0.0.1:${p.redis}/0`,
      [SERVER_ENV.rabbitmq]: `amqp://guest:guest@127.0.0.1:${p.amqp}`,
    };
    const log: string[] = [];
    const teardown = await setupServers({ env, log: (l) => log.push(l) });
    const urls = [env[SERVER_ENV.postgres]!, env[SERVER_ENV.redis]!, env[SERVER_ENV.rabbitmq]!];
    try {
      expect(log).toHaveLength(3);
      expect(urls.map((u) => new URL(u).port)).not.toContain(String(p.pg));
      const client = new pg.Client({ connectionString: urls[0] });
      await client.connect();
      // The admin connection creates databases, as the tests' fixtures do.
      expect((await client.query<{ ok: boolean }>("select rolcreatedb or rolsuper as ok from pg_roles where rolname = current_user")).rows[0]!.ok).toBe(true);
      await client.end();
      const redis = new Redis(urls[1]!, { maxRetriesPerRequest: 1 });
      expect(await redis.ping()).toBe("PONG");
      await redis.quit();
      const conn = await amqp.connect(urls[2]!);
      await conn.close();
    } finally {
      await teardown();
    }
    for (const url of urls) expect(await listening(url), url).toBe(false);
  });

  it("names the Debian package when a server is down and its binary missing", async () => {
    const p = await closedPorts();
    const env: NodeJS.ProcessEnv = { [SERVER_ENV.redis]: `redis://127.0.0.1:${p.redis}/0` };
    await expect(setupServers({ env, findBinary: (name) => (name === "redis-server" ? undefined : `/usr/bin/${name}`), log: () => undefined })).rejects.toThrow(
      new Error(`Redis does not answer at redis://127.0.0.1:${p.redis}/0 and redis-server is not installed: apt-get install redis-server`),
    );
  });
});

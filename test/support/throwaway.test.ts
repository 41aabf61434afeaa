import { describe, expect, it } from "vitest";
import pg from "pg";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { portOpen, SHARED_PORTS } from "../../harness/ports.js";
import { spareport, startPostgres, startRabbitMQ, startRedis } from "./throwaway.js";
import { existsSync } from "node:fs";

describe("spareport", () => {
  it("returns a free port that is none of the shared services'", async () => {
    const p = await spareport();
    expect(p).toBeGreaterThan(0);
    expect(SHARED_PORTS.has(p)).toBe(false);
    expect(await portOpen(p)).toBe(false);
  });
});

describe.concurrent("throwaway servers", () => {
  it("redis: PING, kill, restart on the same port, stop twice", async () => {
    const r = await startRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });
    try {
      expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
      const c = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await c.connect();
      expect(await c.ping()).toBe("PONG");
      expect(await c.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "allkeys-lru"]);
      c.disconnect();
      await r.kill();
      expect(await portOpen(r.port)).toBe(false);
      await r.restart?.();
      const c2 = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      await c2.connect();
      expect(await c2.ping()).toBe("PONG");
      c2.disconnect();
    } finally {
      await r.stop();
      await r.stop();
    }
    expect(await portOpen(r.port)).toBe(false);
    expect(existsSync(r.dir)).toBe(false);
  });

  it("postgres: query with -c settings, kill, restart keeps data, stop", async () => {
    const s = await startPostgres({ settings: { work_mem: "8MB" } });
    try {
      expect(s.url).toBe(`postgres://postgres@127.0.0.1:${s.port}/postgres`);
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      expect((await c.query("show work_mem")).rows[0].work_mem).toBe("8MB");
      await c.query("create table t(x int); insert into t values (42)");
      c.on("error", () => undefined); // the kill below ends this connection
      await s.kill();
      expect(await portOpen(s.port)).toBe(false);
      await c.end().catch(() => undefined);
      await s.restart?.();
      const c2 = new pg.Client({ connectionString: s.url });
      await c2.connect();
      expect((await c2.query("select x from t")).rows).toEqual([{ x: 42 }]);
      await c2.end();
    } finally {
      await s.stop();
      await s.stop();
    }
    expect(await portOpen(s.port)).toBe(false);
  }, 120_000);

  it("rabbitmq: amqp connect, kill, restart on the same port, stop closes the port", async () => {
    const q = await startRabbitMQ();
    try {
      expect(q.url).toBe(`amqp://guest:guest@127.0.0.1:${q.port}`);
      const conn = await amqp.connect(q.url);
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      expect(queue).toMatch(/^amq\.gen-/);
      await ch.assertQueue("durable-kept", { durable: true });
      await conn.close();
      await q.kill();
      expect(await portOpen(q.port)).toBe(false);
      await q.restart?.();
      const conn2 = await amqp.connect(q.url);
      const ch2 = await conn2.createChannel();
      await ch2.checkQueue("durable-kept"); // throws (404) if the restart lost the data
      await conn2.close();
    } finally {
      await q.stop();
      await q.stop();
    }
    expect(await portOpen(q.port)).toBe(false);
  }, 240_000); // two node boots: ~7 s each when idle, much longer on a loaded CI machine
});

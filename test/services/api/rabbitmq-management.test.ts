/**
 * Unacknowledged messages through RabbitMQ's management API (RABBITMQ_MANAGEMENT_URL), on a
 * throwaway broker with the management plugin: a consumer holds messages without acking, and
 * GET /jobs/stats and /metrics report them; with the API unreachable or refusing the credentials,
 * unacked is null and everything else still answers.
 */
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spareport, startRabbitMQ, type RabbitThrowaway } from "../../support/throwaway.js";
import { waitUntil } from "../../../harness/ports.js";
import { authed, call, createTestDatabase, jsonPost, startStack, type TestDatabase, type TestStack } from "./harness.js";

let broker: RabbitThrowaway;
let managementPort: number;
let db: TestDatabase;

beforeAll(async () => {
  managementPort = await spareport();
  broker = await startRabbitMQ({
    plugins: ["rabbitmq_management"],
    // Figures refresh every 500 ms instead of 5 s, so the test waits less.
    conf: `management.tcp.port = ${managementPort}\nmanagement.tcp.ip = 127.0.0.1\ncollect_statistics_interval = 500\n`,
  });
  await waitUntil("the management API", async () => (await fetch(`http://127.0.0.1:${managementPort}/api/overview`).catch(() => null)) !== null, 60_000);
  db = await createTestDatabase();
}, 180_000);

afterAll(async () => {
  await db?.drop();
  await broker?.stop();
});

describe("with RABBITMQ_MANAGEMENT_URL", () => {
  let stack: TestStack;
  let consumer: amqp.ChannelModel | undefined;
  beforeAll(async () => {
    stack = await startStack({
      databaseUrl: db.url,
      amqpUrl: broker.url,
      rabbitmqManagementUrl: `http://guest:guest@127.0.0.1:${managementPort}`,
      metricsMaxAgeMs: 0,
    });
  });
  afterAll(async () => {
    await consumer?.close().catch(() => undefined);
    await stack?.close();
  });

  it("reports messages a consumer holds unacknowledged, in stats and in /metrics", async () => {
    for (let i = 0; i < 3; i++) expect((await call(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }))).status).toBe(202);
    consumer = await amqp.connect(broker.url);
    const ch = await consumer.createChannel();
    await ch.prefetch(2);
    await ch.consume(stack.queueName, () => undefined, { noAck: false }); // holds two, acks none

    let last: unknown;
    await waitUntil(
      "stats to show 2 unacked",
      async () => {
        last = (await call(`${stack.baseUrl}/jobs/stats`, authed(stack.token))).body.queue;
        return (last as { unacked?: number }).unacked === 2;
      },
      30_000,
      () => JSON.stringify(last),
    );
    expect(last).toMatchObject({ ready: 1, unacked: 2, consumers: 1 });
    const metrics = (await call(`${stack.baseUrl}/metrics`)).text;
    expect(metrics).toMatch(new RegExp(`^jobstack_queue_messages_unacked\\{[^}]*queue="${stack.queueName}"[^}]*\\} 2$`, "m"));
  });
});

describe("with the management API refusing or unreachable", () => {
  for (const [what, url] of [
    ["wrong credentials", () => `http://guest:wrong@127.0.0.1:${managementPort}`],
    ["a closed port", () => "http://127.0.0.1:1"],
  ] as const) {
    it(`${what}: unacked is null, the rest answers`, async () => {
      const stack = await startStack({ databaseUrl: db.url, amqpUrl: broker.url, rabbitmqManagementUrl: url(), metricsMaxAgeMs: 0 });
      try {
        const stats = await call(`${stack.baseUrl}/jobs/stats`, authed(stack.token));
        expect(stats.status).toBe(200);
        expect(stats.body.queue).toMatchObject({ name: stack.queueName, ready: 0, unacked: null });
        expect(stats.body.byState).not.toBeNull();
        const metrics = (await call(`${stack.baseUrl}/metrics`)).text;
        expect(metrics).not.toMatch(/^jobstack_queue_messages_unacked\{/m);
        expect(metrics).toMatch(/^jobstack_queue_messages_ready\{/m);
      } finally {
        await stack.close();
      }
    });
  }
});

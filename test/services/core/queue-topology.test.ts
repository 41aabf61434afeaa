// The job queue's topology on the real RabbitMQ (services/core/queue-topology.ts): the length
// bounds the broker enforces, dead letters reaching their queue, and a queue an older release
// declared without bounds being used as it is.
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundArguments, declareTopology, isPublishRejected, type TopologyNames } from "../../../services/core/queue-topology.js";
import { AMQP_URL, deleteQueueTopology, testQueueName } from "../../../harness/jobstack.js";

let conn: amqp.ChannelModel;
const created: string[] = [];
beforeAll(async () => {
  conn = await amqp.connect(AMQP_URL);
});
afterAll(async () => {
  await conn?.close();
  for (const q of created) await deleteQueueTopology(q).catch(() => undefined);
});

function names(): TopologyNames {
  const queue = testQueueName();
  created.push(queue);
  return { queue, deadLetterExchange: `${queue}.dlx`, deadLetterQueue: `${queue}.dead` };
}

describe("boundArguments and isPublishRejected", () => {
  it("bounds a queue only when a length is given", () => {
    expect(boundArguments("quorum", 10, "reject-publish")).toEqual({ "x-queue-type": "quorum", "x-max-length": 10, "x-overflow": "reject-publish" });
    expect(boundArguments("classic", 1, "drop-head")).toEqual({ "x-queue-type": "classic", "x-max-length": 1, "x-overflow": "drop-head" });
    expect(boundArguments("classic", 0, "drop-head")).toEqual({ "x-queue-type": "classic" });
  });

  it("recognises the broker's refusal of a confirmed publish, and nothing else", () => {
    expect(isPublishRejected(new Error("message nacked"))).toBe(true);
    expect(isPublishRejected(new Error("Message Nacked by the broker"))).toBe(true);
    expect(isPublishRejected(new Error("channel closed"))).toBe(false);
    expect(isPublishRejected("message nacked")).toBe(false);
  });
});

describe("declareTopology", () => {
  it("declares a bounded job queue that refuses publishes when full, and dead letters that keep the newest", async () => {
    const n = names();
    await declareTopology(conn, n, { queueType: "classic", maxLength: 2, deadLetterMaxLength: 1 });
    const ch = await conn.createConfirmChannel();
    try {
      const publish = (body: string) =>
        new Promise<void>((resolve, reject) => ch.sendToQueue(n.queue, Buffer.from(body), {}, (err) => (err ? reject(err) : resolve())));
      await publish("a");
      await publish("b");
      const refused = await publish("c").then(
        () => null,
        (err: unknown) => err,
      );
      expect(isPublishRejected(refused)).toBe(true);
      expect((await ch.checkQueue(n.queue)).messageCount).toBe(2);

      // Rejected without requeue, both go to the dead-letter queue, which keeps only the newest.
      for (const expected of ["a", "b"]) {
        const msg = await ch.get(n.queue, { noAck: false });
        expect(msg && msg.content.toString()).toBe(expected);
        if (msg) ch.nack(msg, false, false);
      }
      await ch.waitForConfirms();
      let dead: false | amqp.GetMessage = false;
      for (let i = 0; i < 50 && !dead; i++) {
        if ((await ch.checkQueue(n.deadLetterQueue)).messageCount > 0) dead = await ch.get(n.deadLetterQueue, { noAck: true });
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const leftover = await ch.get(n.deadLetterQueue, { noAck: true });
      const bodies = [dead, leftover].filter((m): m is amqp.GetMessage => m !== false).map((m) => m.content.toString());
      expect(bodies).toEqual(["b"]);
    } finally {
      await ch.close().catch(() => undefined);
    }
  });

  it("declares durable exchange and queues with exactly the bound arguments (the broker refuses any other redeclaration with 406)", async () => {
    const n = names();
    await declareTopology(conn, n, { queueType: "classic", maxLength: 2, deadLetterMaxLength: 1 });
    const ch = await conn.createChannel();
    try {
      await ch.assertExchange(n.deadLetterExchange, "fanout", { durable: true });
      await ch.assertQueue(n.deadLetterQueue, { durable: true, arguments: { "x-queue-type": "classic", "x-max-length": 1, "x-overflow": "drop-head" } });
      await ch.assertQueue(n.queue, {
        durable: true,
        arguments: { "x-queue-type": "classic", "x-max-length": 2, "x-overflow": "reject-publish", "x-dead-letter-exchange": n.deadLetterExchange },
      });
    } finally {
      await ch.close().catch(() => undefined);
    }
  });

  it("declares again without complaint when the arguments match", async () => {
    const n = names();
    const unbounded: string[] = [];
    const o = { queueType: "classic" as const, maxLength: 5, deadLetterMaxLength: 5, onUnbounded: (q: string) => unbounded.push(q) };
    await declareTopology(conn, n, o);
    await declareTopology(conn, n, o);
    expect(unbounded).toEqual([]);
  });

  it("uses queues an older release declared without bounds as they are, and says so for each", async () => {
    const n = names();
    await declareTopology(conn, n, { queueType: "classic", maxLength: 0, deadLetterMaxLength: 0 });
    const reports: [string, string][] = [];
    await declareTopology(conn, n, {
      queueType: "classic",
      maxLength: 3,
      deadLetterMaxLength: 3,
      onUnbounded: (q, err) => reports.push([q, err.message]),
    });
    const message = (q: string) =>
      `queue ${q} exists with other arguments (declared by an older release, without the length bound); using it as it is: bound it with a policy (docs/storage.md)`;
    expect(reports).toEqual([
      [n.deadLetterQueue, message(n.deadLetterQueue)],
      [n.queue, message(n.queue)],
    ]);
    // Without a listener it is just as quiet, and the connection stays usable.
    await declareTopology(conn, n, { queueType: "classic", maxLength: 3, deadLetterMaxLength: 3 });
    const ch = await conn.createChannel();
    expect((await ch.checkQueue(n.queue)).messageCount).toBe(0);
    await ch.close();
  });

  it("passes on a refusal that is not about arguments", async () => {
    // Names starting with amq. are reserved: the broker answers 403 ACCESS_REFUSED, not 406.
    const reserved = { queue: `amq.${testQueueName()}`, deadLetterExchange: `${testQueueName()}.dlx`, deadLetterQueue: `amq.${testQueueName()}.dead` };
    const unbounded: string[] = [];
    await expect(
      declareTopology(conn, reserved, { queueType: "classic", maxLength: 1, deadLetterMaxLength: 1, onUnbounded: (q) => unbounded.push(q) }),
    ).rejects.toThrow(/ACCESS_REFUSED/);
    expect(unbounded).toEqual([]);
    const ch = await conn.createChannel();
    await ch.deleteExchange(reserved.deadLetterExchange);
    await ch.close();
  });
});

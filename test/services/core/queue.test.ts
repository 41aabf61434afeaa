import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { JobQueue, parseMessage, encodeMessage, type MessageHandler } from "../../../services/core/queue.js";
import { uuidv7 } from "../../../services/core/uuid.js";
import { AMQP_URL, deleteQueueTopology, eventually, testQueueName } from "../../../harness/jobstack.js";

const opened: JobQueue[] = [];
const queues: string[] = [];

function makeQueue(overrides: Partial<ConstructorParameters<typeof JobQueue>[0]> = {}): JobQueue {
  const name = testQueueName();
  queues.push(name);
  const q = new JobQueue({ url: AMQP_URL, queue: name, prefetch: 4, ...overrides });
  opened.push(q);
  return q;
}

afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
  for (const name of queues.splice(0)) await deleteQueueTopology(name).catch(() => undefined);
});

describe("message format", () => {
  it("round-trips a job id and rejects anything else", () => {
    const id = uuidv7();
    expect(parseMessage(encodeMessage(id))).toBe(id);
    for (const bad of ["", "{", "null", '{"id":1}', '{"id":"not-a-uuid"}', "[]"]) expect(parseMessage(Buffer.from(bad))).toBeNull();
  });
});

describe("JobQueue", () => {
  it.each(["quorum", "classic"] as const)("publishes with confirms and consumes with manual acks (%s)", async (queueType) => {
    const q = makeQueue({ queueType });
    await q.connect();
    const got: string[] = [];
    const ids = Array.from({ length: 20 }, () => uuidv7());
    await q.consume(async (id) => {
      got.push(id);
      return "ack";
    });
    await Promise.all(ids.map((id) => q.publish(id)));
    await eventually("all messages", async () => got.length === ids.length);
    expect(got.sort()).toEqual([...ids].sort());
    await eventually("queue empty", async () => (await q.depth()).ready === 0);
  });

  it.each(["quorum", "classic"] as const)("keeps its publisher when a full queue refuses a publish (%s)", async (queueType) => {
    // A refused publish makes the queue ask how full it is (RabbitMQ 3.10 also refuses for good
    // on a channel that joined a quorum queue without a leader: test/reliability/rabbitmq-stuck-publisher.test.ts).
    // A queue at its bound is the ordinary reason: no new connection, and a publish fits again
    // once a message leaves.
    const errors: string[] = [];
    const q = makeQueue({ queueType, maxLength: 2, onError: (err) => errors.push(err.message) });
    await q.connect();
    // A quorum queue enforces its bound a little late (it tells its publishers once it is
    // reached), so publish until the refusal comes.
    let accepted = 0;
    let refusal: Error | null = null;
    while (!refusal && accepted < 20) await q.publish(uuidv7()).then(() => accepted++, (err: Error) => (refusal = err));
    expect(String(refusal)).toMatch(/nacked/);
    expect(accepted).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 500)); // the depth check's answer
    expect(errors.filter((e) => /itself refuses/.test(e))).toEqual([]);
    expect(q.isConnected()).toBe(true);
    const got: string[] = [];
    await q.consume(async (id) => {
      got.push(id);
      return "ack";
    });
    await eventually("the messages consumed", async () => got.length === accepted);
    await eventually("the queue takes publishes again", async () => q.publish(uuidv7()).then(() => true, () => false));
    expect(errors.filter((e) => /itself refuses/.test(e))).toEqual([]);
  });

  it("dead-letters unparseable messages and keeps consuming", async () => {
    const q = makeQueue();
    await q.connect();
    const good = uuidv7();
    const got: string[] = [];
    const handler: MessageHandler = async (id) => {
      got.push(id);
      return "ack";
    };
    await q.publishRaw(Buffer.from("this is not json"));
    await q.publishRaw(Buffer.from('{"id":"nope"}'));
    await q.publish(good);
    await q.consume(handler);
    await eventually("the good message", async () => got.includes(good));
    await eventually("two dead letters", async () => (await q.depth()).dead === 2);
    expect(got).toEqual([good]);
  });

  it("requeues when the handler asks for it", async () => {
    const q = makeQueue();
    await q.connect();
    const id = uuidv7();
    let calls = 0;
    await q.consume(async () => (++calls < 3 ? "requeue" : "ack"));
    await q.publish(id);
    await eventually("third delivery", async () => calls === 3);
  });

  it("fails publish fast when the broker is unreachable, and closes cleanly twice", async () => {
    const q = makeQueue({ url: "amqp://guest:guest@127.0.0.1:1", connectTimeoutMs: 200 });
    await expect(q.connect(300)).rejects.toThrow(/timed out/);
    expect(q.isConnected()).toBe(false);
    await expect(q.publish(uuidv7())).rejects.toThrow(/not connected/);
    await q.close();
    await q.close();
  });

  it("never reports a half-open session: a broker that accepts the socket and says nothing times out, and is retried", async () => {
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const silent = net.createServer((sock) => {
      accepted++;
      sockets.add(sock);
      sock.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const errors: string[] = [];
    const q = makeQueue({ url: `amqp://guest:guest@127.0.0.1:${port}`, connectTimeoutMs: 200, maxReconnectDelayMs: 100, onError: (e) => errors.push(e.message) });
    try {
      await expect(q.connect(1_500)).rejects.toThrow(/timed out/);
      expect(q.isConnected()).toBe(false);
      expect(q.unavailableSince()).not.toBeNull();
      await expect(q.publish(uuidv7())).rejects.toThrow(/not connected/);
      expect(accepted).toBeGreaterThan(1); // each attempt gave up on its socket and tried again
      expect(errors.some((e) => /ETIMEDOUT|timed out/.test(e))).toBe(true);
    } finally {
      await q.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

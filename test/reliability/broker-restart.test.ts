/**
 * A RabbitMQ node SIGKILLed and restarted on the same port under a live JobQueue: publishing and
 * consumption resume without restarting the process (a new JobQueue is never made).
 *
 * Two ways the node comes back (docs/broker-outages.md):
 * - ordinary: the quorum queue recovers with its log and elects itself leader;
 * - leaderless: the node has forgotten the queue's Ra server (its name registry is a dets file
 *   written up to 3 s late, so a kill soon after the queue was declared loses the entry), starts
 *   an empty member that never elects itself, and basic.consume never gets an answer. The test
 *   makes that state certain by deleting the entry from the registry before the kill, which is
 *   exactly what the lost write leaves behind. The consumer's consume times out, the queue is
 *   repaired (deleted, declared again), and both sides resume.
 */
import { execFile } from "node:child_process";
import amqp from "amqplib";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobQueue, type JobQueueOptions } from "../../services/core/queue.js";
import { uuidv7 } from "../../services/core/uuid.js";
import { eventually, testQueueName } from "../../harness/jobstack.js";
import { startRabbitMQ, type RabbitThrowaway } from "../support/throwaway.js";

const execFileP = promisify(execFile);

let broker: RabbitThrowaway;
const opened: JobQueue[] = [];

beforeAll(async () => {
  broker = await startRabbitMQ();
}, 180_000);
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});
afterAll(async () => {
  await broker?.stop();
});

/** Evaluates an Erlang expression on the throwaway node. */
async function rabbitEval(expr: string): Promise<string> {
  const { stdout } = await execFileP("rabbitmqctl", ["-n", broker.node, "eval", expr], { timeout: 60_000 });
  return stdout.trim();
}

/** The Ra server name of a quorum queue in vhost "/" (rabbit_quorum_queue:qname_to_internal_name). */
const raName = (queue: string) => `list_to_atom("%2F_" ++ "${queue}")`;

/** Makes the queue's registry entry durable now, so the kill takes the ordinary path. */
const flushRegistry = () => rabbitEval("dets:sync(ra_directory_reverse).");

/** Loses the queue's registry entry on disk, as a kill within the delayed-write window does. */
async function forgetRegistration(queue: string): Promise<void> {
  const out = await rabbitEval(`N = ${raName(queue)}, ok = dets:delete(ra_directory_reverse, N), dets:sync(ra_directory_reverse).`);
  expect(out).toBe("ok");
}

function makeQueue(overrides: Partial<JobQueueOptions> = {}): { q: JobQueue; got: string[]; errors: string[] } {
  const errors: string[] = [];
  const q = new JobQueue({
    url: broker.url,
    queue: testQueueName(),
    maxReconnectDelayMs: 500,
    stepTimeoutMs: 3_000,
    onError: (err) => errors.push(err.message),
    ...overrides,
  });
  opened.push(q);
  return { q, got: [], errors };
}

async function startConsuming(q: JobQueue, got: string[]): Promise<void> {
  await q.connect(30_000);
  await q.consume(async (id) => {
    got.push(id);
    return "ack";
  });
  await eventually("consumer registered", async () => q.isConsuming(), 30_000);
  const first = uuidv7();
  await q.publish(first);
  await eventually("first message consumed", async () => got.includes(first), 30_000);
}

describe("the broker's side (evidence for docs/broker-outages.md)", () => {
  it("RabbitMQ never answers basic.consume on a quorum queue whose Ra server it forgot, on a fresh connection either", { timeout: 240_000 }, async () => {
    const queue = testQueueName();
    const args = { durable: true, arguments: { "x-queue-type": "quorum" } };
    const first = await amqp.connect(broker.url);
    first.on("error", () => undefined);
    await (await first.createChannel()).assertQueue(queue, args);
    await forgetRegistration(queue);
    await broker.kill();
    await broker.restart!();

    for (let attempt = 0; attempt < 2; attempt++) {
      const conn = await amqp.connect(broker.url);
      conn.on("error", () => undefined);
      const ch = await conn.createChannel();
      ch.on("error", () => undefined);
      expect((await ch.checkQueue(queue)).queue).toBe(queue); // the queue looks fine from outside
      const answer = await Promise.race([
        ch.consume(queue, () => undefined).then(() => "consume-ok", (e: Error) => `error: ${e.message}`),
        new Promise<string>((r) => setTimeout(() => r("no answer"), 8_000)),
      ]);
      expect(answer).toBe("no answer");
      (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy();
    }
    const status = await rabbitEval(`{_, _, _, [_, _, _, _, Items]} = sys:get_status(${raName(queue)}), lists:flatten(io_lib:format("~p", [Items])).`);
    expect(status).toMatch(/election_timeout_set,false/);
    const cleanup = await amqp.connect(broker.url);
    await (await cleanup.createChannel()).deleteQueue(queue); // the broker force-deletes it after 5 s
    await cleanup.close();
  });
});

describe("JobQueue across a broker restart", () => {
  it("resumes publishing and consuming after a SIGKILL and restart", { timeout: 240_000 }, async () => {
    const { q, got } = makeQueue();
    await startConsuming(q, got);
    await flushRegistry();

    await broker.kill();
    await eventually("both sides notice", async () => !q.isConnected() && !q.isConsuming(), 30_000);
    expect(q.unavailableSince()).not.toBeNull();
    await expect(q.publish(uuidv7())).rejects.toThrow(/not connected/); // fails at once, never hangs

    await broker.restart!();
    await eventually("publisher and consumer back", async () => q.isConnected() && q.isConsuming(), 90_000);
    expect(q.unavailableSince()).toBeNull();
    const after = uuidv7();
    await q.publish(after);
    await eventually("message after the restart consumed", async () => got.includes(after), 30_000);
    expect(q.repairCount).toBe(0);
  });

  it("repairs a quorum queue that came back without a leader; publishing never waits for it", { timeout: 240_000 }, async () => {
    let repaired = 0;
    const { q, got, errors } = makeQueue({ stepTimeoutMs: 2_000, repairAfterConsumeTimeouts: 2, onRepaired: () => repaired++ });
    await startConsuming(q, got);
    await forgetRegistration(q.queue);

    await broker.kill();
    await eventually("both sides notice", async () => !q.isConnected() && !q.isConsuming(), 30_000);
    await broker.restart!();

    // The publisher's session does not depend on the consumer: it is up while consume hangs.
    const consumingWhenPublisherUp = await eventually("publisher back", async () => (q.isConnected() ? { consuming: q.isConsuming() } : null), 90_000, 20);
    expect(consumingWhenPublisherUp.consuming).toBe(false);

    await eventually("consumer back after the repair", async () => q.isConsuming(), 120_000);
    expect(q.repairCount).toBe(1);
    expect(repaired).toBe(1);
    expect(errors.some((e) => /basic\.consume/.test(e))).toBe(true); // the timeouts were reported
    expect(errors.some((e) => /without a leader/.test(e))).toBe(true); // and so was the repair

    const after = uuidv7();
    await q.publish(after);
    await eventually("message after the repair consumed", async () => got.includes(after), 30_000);
  });
});

/**
 * RabbitMQ 3.10 refuses, for good, every publish on a channel whose first publish to a quorum
 * queue came between the death of the queue's leader and the election of the next one, even
 * once the new leader takes publishes from every other channel (docs/broker-outages.md). The
 * refusal is a nack, like a full queue's. Every process that reconnected in that moment (the api
 * or a worker whose node died), or that published for the first time in it (a worker's
 * publisher only publishes when its sweeper finds work), would publish nothing ever again and
 * log nothing: jobs stay PENDING. It stalled test/reliability/rabbitmq-cluster-failover.test.ts
 * once in CI, where the election took longer than here.
 *
 * The test kills the leader's node of a three-node cluster and makes first publishes every
 * 40 ms for 1.2 s on the survivors, so some land in the leaderless moment however long it
 * lasts on the machine: each from a raw amqplib channel (the broker's side: refused then, still
 * refused after the election) and from a JobQueue (ours: each one refused then publishes again
 * on a new connection, and says why; none that was never refused starts over).
 */
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../../services/core/queue.js";
import { uuidv7 } from "../../services/core/uuid.js";
import { eventually, sleep, testQueueName } from "../../harness/jobstack.js";
import { startRabbitCluster, type RabbitCluster } from "../support/rabbit-cluster.js";

let cluster: RabbitCluster;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  cluster = await startRabbitCluster(3);
}, 180_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await cluster?.stop();
}, 120_000);

/** First publishes after the kill: this many, this far apart. */
const PROBES = 30;
const PROBE_SPACING_MS = 40;
const STUCK = /the publisher channel itself refuses/;

/** "ack" or "nack" of one confirmed publish on a raw channel. */
function publishOn(ch: amqp.ConfirmChannel, queue: string): Promise<"ack" | "nack"> {
  return new Promise((resolve) => ch.sendToQueue(queue, Buffer.from("{}"), { persistent: true }, (err) => resolve(err ? "nack" : "ack")));
}

const outcome = (p: Promise<void>): Promise<"ack" | "nack" | string> => p.then(() => "ack", (e: Error) => (/nacked/.test(e.message) ? "nack" : e.message));

describe("a publisher channel that RabbitMQ refuses for good after its queue's leader died", () => {
  it("is replaced: every JobQueue refused in the leaderless moment publishes again", { timeout: 300_000 }, async () => {
    const queue = testQueueName();
    const seed = new JobQueue({ url: cluster.url, queue, queueType: "quorum" });
    closers.push(() => seed.close());
    await seed.connect(30_000);
    await seed.publish(uuidv7());
    await eventually("queue members on all three nodes", async () => (await cluster.quorumStatus(queue).catch(() => null))?.members.length === 3, 60_000, 250);
    const { leader } = await cluster.quorumStatus(queue);
    const victim = cluster.nodes.find((n) => n.node === leader)!;
    const survivors = cluster.nodes.filter((n) => n !== victim);
    const urlOf = (i: number) => `amqp://guest:guest@127.0.0.1:${survivors[i % survivors.length]!.port}`;

    // Channels open on the survivors before the kill, none of them has published yet.
    const raws = await Promise.all(
      Array.from({ length: PROBES }, async (_, i) => {
        const connection = await amqp.connect(urlOf(i));
        closers.push(() => connection.close());
        connection.on("error", () => undefined);
        const channel = await connection.createConfirmChannel();
        channel.on("error", () => undefined);
        return channel;
      }),
    );
    const errors: string[][] = Array.from({ length: PROBES }, () => []);
    const queues = await Promise.all(
      Array.from({ length: PROBES }, async (_, i) => {
        const q = new JobQueue({ url: urlOf(i), queue, queueType: "quorum", maxReconnectDelayMs: 500, publishTimeoutMs: 20_000, onError: (err) => errors[i]!.push(err.message) });
        closers.push(() => q.close());
        await q.connect(30_000);
        return q;
      }),
    );

    const killing = victim.kill();
    const first = await Promise.all(
      Array.from({ length: PROBES }, async (_, i) => {
        await sleep(i * PROBE_SPACING_MS);
        const [raw, ours] = await Promise.all([publishOn(raws[i]!, queue), outcome(queues[i]!.publish(uuidv7()))]);
        return { raw, ours };
      }),
    );
    await killing;
    await eventually("a new leader", async () => {
      const s = await cluster.quorumStatus(queue, survivors[0]).catch(() => null);
      return s?.leader !== undefined && s.leader !== victim.node;
    }, 60_000, 250);
    const summary = () => JSON.stringify(first.map((f, i) => `${i * PROBE_SPACING_MS}ms raw ${f.raw} ours ${f.ours}`));

    // The broker's side: raw channels refused in the moment are still refused now, while a new
    // channel publishes. Without a refused probe this run never hit the moment and shows nothing.
    const fresh = await (await amqp.connect(urlOf(0)).then((c) => (closers.push(() => c.close()), c))).createConfirmChannel();
    expect(await publishOn(fresh, queue), "a new channel publishes").toBe("ack");
    const refusedRaw = first.flatMap((f, i) => (f.raw === "nack" ? [i] : []));
    expect(refusedRaw.length, `raw channels refused in the leaderless moment: ${summary()}`).toBeGreaterThan(0);
    const stillRefused = await Promise.all(refusedRaw.map((i) => publishOn(raws[i]!, queue)));
    expect(stillRefused, "RabbitMQ keeps refusing those channels").toEqual(refusedRaw.map(() => "nack"));

    // Ours: every JobQueue publishes now. Each refused one said why it started over; the others
    // never did (a nack is what makes it look).
    const now = await Promise.all(queues.map((q) => outcome(q.publish(uuidv7()))));
    expect(now, summary()).toEqual(queues.map(() => "ack"));
    first.forEach((f, i) => {
      if (f.ours === "nack") expect(errors[i]!.some((e) => STUCK.test(e)), `probe ${i}: ${errors[i]!.join("; ")}`).toBe(true);
      if (f.ours === "ack") expect(errors[i]!.filter((e) => STUCK.test(e)), `probe ${i}`).toEqual([]);
    });
    expect(first.some((f) => f.ours === "nack"), summary()).toBe(true);
    console.log(`leader killed; refused in the leaderless moment: raw ${refusedRaw.length}, JobQueue ${first.filter((f) => f.ours === "nack").length} of ${PROBES} (one every ${PROBE_SPACING_MS} ms)`);
  });
});

/**
 * AckCoalescer: acks due in one turn of the event loop go out as one `multiple` ack for the
 * oldest run of done deliveries, and singly for the rest; a delivery still running is never
 * covered. A fake channel records the acks (no broker needed: this is the bookkeeping alone; the
 * worker and reliability suites run it against RabbitMQ).
 */
import type amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { AckCoalescer } from "../../../services/core/acks.js";

const msg = (tag: number) => ({ fields: { deliveryTag: tag } }) as unknown as amqp.Message;
const turn = () => new Promise<void>((r) => setImmediate(r));

function setup() {
  const sent: string[] = [];
  const channel = { ack: (m: amqp.Message, multiple?: boolean) => void sent.push(`${m.fields.deliveryTag}${multiple ? "+" : ""}`) };
  const acks = new AckCoalescer(channel, (fn) => fn());
  const msgs = [1, 2, 3, 4, 5].map(msg);
  for (const m of msgs) acks.delivered(m);
  return { sent, acks, msgs };
}

describe("AckCoalescer", () => {
  it("acks the oldest done run with one multiple ack, after the current turn", async () => {
    const { sent, acks, msgs } = setup();
    acks.ack(msgs[1]!);
    acks.ack(msgs[0]!);
    acks.ack(msgs[2]!);
    expect(sent).toEqual([]);
    await turn();
    expect(sent).toEqual(["3+"]);
  });

  it("never covers a delivery still running: done ones after it are acked singly", async () => {
    const { sent, acks, msgs } = setup();
    acks.ack(msgs[0]!);
    acks.ack(msgs[2]!);
    acks.ack(msgs[4]!);
    await turn();
    expect(sent.sort()).toEqual(["1", "3", "5"]);
    acks.ack(msgs[1]!);
    acks.ack(msgs[3]!);
    await turn();
    // 1, 3 and 5 are settled: 2 and 4 are now the oldest outstanding, both done.
    expect(sent.slice(3)).toEqual(["4+"]);
  });

  it("skips a forgotten (nacked) delivery when it builds the run", async () => {
    const { sent, acks, msgs } = setup();
    acks.forget(msgs[0]!);
    acks.ack(msgs[1]!);
    acks.ack(msgs[2]!);
    await turn();
    expect(sent).toEqual(["3+"]);
  });

  it("acks a single done delivery without multiple", async () => {
    const { sent, acks, msgs } = setup();
    acks.ack(msgs[0]!);
    await turn();
    expect(sent).toEqual(["1"]);
  });

  it("acks singly when the oldest delivery is still running", async () => {
    const { sent, acks, msgs } = setup();
    acks.ack(msgs[3]!);
    await turn();
    expect(sent).toEqual(["4"]);
  });

  it("ignores forgetting a delivery it never saw", async () => {
    const { sent, acks, msgs } = setup();
    acks.forget(msg(99));
    for (const m of msgs) acks.ack(m);
    await turn();
    expect(sent).toEqual(["5+"]);
  });
});

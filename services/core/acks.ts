// Acks of one consumer channel, coalesced: the acks that become due in the same turn of the
// event loop (a batch of completions commits in one statement, so its jobs finish together) go
// out as one `basic.ack` with `multiple` for the longest run of the oldest deliveries that are
// all done, and one plain ack for each done delivery outside that run. A delivery whose job is
// still running is never covered by a `multiple`: that is what keeps acks manual and per job.
//
// Delivery tags grow by one per delivery on a channel, so the deliveries still outstanding, in
// the order they arrived, are in tag order.

import type amqp from "amqplib";

export class AckCoalescer {
  /** Delivered and not yet settled, oldest first. */
  private readonly outstanding: amqp.Message[] = [];
  /** Tags whose ack is due. */
  private readonly due = new Set<number>();
  private scheduled = false;

  constructor(
    private readonly channel: Pick<amqp.Channel, "ack">,
    /** Runs an ack; an error (channel closed meanwhile) is the caller's to report or ignore. */
    private readonly settle: (fn: () => void) => void,
  ) {}

  /** Call on delivery, before the message is handled. */
  delivered(msg: amqp.Message): void {
    this.outstanding.push(msg);
  }

  /** The message's job is done: ack it (in this turn of the event loop, with its neighbours). */
  ack(msg: amqp.Message): void {
    this.due.add(msg.fields.deliveryTag);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The message is settled some other way (nack): forget it. */
  forget(msg: amqp.Message): void {
    const i = this.outstanding.indexOf(msg);
    if (i >= 0) this.outstanding.splice(i, 1);
  }

  /** Sends every due ack now. */
  flush(): void {
    this.scheduled = false;
    if (this.due.size === 0) return;
    let run = 0;
    while (run < this.outstanding.length && this.due.has(this.outstanding[run]!.fields.deliveryTag)) run++;
    if (run > 0) {
      const last = this.outstanding[run - 1]!;
      this.settle(() => this.channel.ack(last, run > 1));
      for (const m of this.outstanding.splice(0, run)) this.due.delete(m.fields.deliveryTag);
    }
    for (let i = this.outstanding.length - 1; i >= 0 && this.due.size > 0; i--) {
      const m = this.outstanding[i]!;
      if (!this.due.has(m.fields.deliveryTag)) continue;
      this.settle(() => this.channel.ack(m));
      this.due.delete(m.fields.deliveryTag);
      this.outstanding.splice(i, 1);
    }
  }
}

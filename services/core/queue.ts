// The RabbitMQ layer: one durable queue of job ids (quorum by default), publisher confirms,
// manual acks, prefetch = worker concurrency, and a dead-letter exchange + queue that
// receives messages the worker cannot parse. Reconnects on its own after a broker outage.
//
// A message carries only the job id ({"id": "<uuid>"}); Postgres holds everything else, so a
// duplicated, stale or reordered message can never carry a wrong payload.

import amqp from "amqplib";
import { coerceError, TimeoutError, withTimeout } from "./errors.js";
import { declareTopology, DEFAULT_DEAD_LETTER_MAX_LENGTH, DEFAULT_QUEUE_MAX_LENGTH } from "./queue-topology.js";
import { isUuid } from "./uuid.js";

export type Disposition = "ack" | "requeue";
/** Handles one job id. Resolves to what should happen to the message; a throw requeues it. */
export type MessageHandler = (jobId: string) => Promise<Disposition>;

export interface JobQueueOptions {
  readonly url: string;
  /** Queue name; the dead-letter exchange and queue are `<queue>.dlx` and `<queue>.dead`. */
  readonly queue: string;
  /** @default "quorum" */
  readonly queueType?: "quorum" | "classic";
  /** Bound of the job queue (reject-publish, see queue-topology.ts); 0 = unbounded. @default 1000000 */
  readonly maxLength?: number;
  /** Bound of the dead-letter queue; 0 = unbounded. @default 100000 */
  readonly deadLetterMaxLength?: number;
  /** A queue exists without the bound (declared by an older release): used as it is. */
  readonly onUnbounded?: (queue: string, err: Error) => void;
  /** Unacked messages per consumer (= worker concurrency). @default 8 */
  readonly prefetch?: number;
  /** How long publish() waits for the broker's confirm. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** @default 3000 */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the reconnect delay. @default 5000 */
  readonly maxReconnectDelayMs?: number;
  readonly onError?: (err: Error) => void;
  /** Called for each message sent to the dead-letter queue. */
  readonly onDeadLetter?: (reason: string) => void;
}

export function encodeMessage(jobId: string): Buffer {
  return Buffer.from(JSON.stringify({ id: jobId }));
}

/** The job id carried by a message, or null when it is not `{"id": "<uuid>"}`. */
export function parseMessage(content: Buffer): string | null {
  try {
    const body: unknown = JSON.parse(content.toString("utf8"));
    if (body && typeof body === "object" && isUuid((body as { id?: unknown }).id)) return (body as { id: string }).id;
    return null;
  } catch {
    return null;
  }
}

interface Session {
  readonly connection: amqp.ChannelModel;
  readonly publisher: amqp.ConfirmChannel;
  readonly consumer: amqp.Channel;
  consumerTag: string | null;
  readonly closed: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class JobQueue {
  readonly queue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  private session: Session | null = null;
  private loop: Promise<void> | null = null;
  private closing = false;
  private handler: MessageHandler | null = null;
  private waiters: Array<() => void> = [];
  private wakeLoop: (() => void) | null = null;

  constructor(private readonly options: JobQueueOptions) {
    this.queue = options.queue;
    this.deadLetterExchange = `${options.queue}.dlx`;
    this.deadLetterQueue = `${options.queue}.dead`;
  }

  isConnected(): boolean {
    return this.session !== null;
  }

  /**
   * Starts connecting (and reconnecting after every loss until close()) and waits up to
   * `timeoutMs` for the first connection. On timeout it rejects but keeps trying in the
   * background, so a process can start while the broker is still down.
   */
  async connect(timeoutMs = 10_000): Promise<void> {
    if (this.closing) throw new Error("queue is closed");
    this.loop ??= this.run();
    if (this.session) return;
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    await withTimeout(ready, timeoutMs, `connecting to RabbitMQ (${this.queue})`);
  }

  /** Publishes a job id; resolves once the broker confirmed it, rejects when it cannot. */
  async publish(jobId: string): Promise<void> {
    await this.publishRaw(encodeMessage(jobId), jobId);
  }

  /** Publishes raw bytes to the job queue (tests use it to send unparseable messages). */
  async publishRaw(content: Buffer, messageId?: string): Promise<void> {
    const session = this.session;
    if (!session) throw new Error(`not connected to RabbitMQ: cannot publish to ${this.queue}`);
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        session.publisher.sendToQueue(
          this.queue,
          content,
          { persistent: true, contentType: "application/json", ...(messageId ? { messageId } : {}) },
          (err) => (err ? reject(coerceError(err)) : resolve()),
        );
      } catch (err) {
        reject(coerceError(err));
      }
    });
    await withTimeout(confirmed, this.options.publishTimeoutMs ?? 5_000, `publish confirm from RabbitMQ`);
  }

  /** Starts consuming with `handler` (again after every reconnect, until stopConsuming()). */
  async consume(handler: MessageHandler): Promise<void> {
    this.handler = handler;
    if (this.session) await this.startConsumer(this.session);
  }

  /** Stops taking new messages; unacked ones stay with this consumer until acked or the channel closes. */
  async stopConsuming(): Promise<void> {
    this.handler = null;
    const session = this.session;
    if (session?.consumerTag) {
      const tag = session.consumerTag;
      session.consumerTag = null;
      await session.consumer.cancel(tag).catch((err) => this.options.onError?.(coerceError(err)));
    }
  }

  /** Message counts of the job queue and the dead-letter queue (tests, readiness). */
  async depth(): Promise<{ ready: number; dead: number }> {
    const session = this.session;
    if (!session) throw new Error("not connected to RabbitMQ");
    const main = await session.publisher.checkQueue(this.queue);
    const dead = await session.publisher.checkQueue(this.deadLetterQueue);
    return { ready: main.messageCount, dead: dead.messageCount };
  }

  /** Closes the connection and stops reconnecting. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.loop;
      return;
    }
    this.closing = true;
    this.handler = null;
    this.wakeLoop?.();
    const session = this.session;
    this.session = null;
    if (session) {
      try {
        await session.connection.close();
      } catch (err) {
        // Already closed by the broker: nothing left to release.
        if (!/closed|closing/i.test(coerceError(err).message)) throw coerceError(err);
      }
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      let session: Session | null = null;
      try {
        session = await this.open();
        attempt = 0;
      } catch (err) {
        this.options.onError?.(coerceError(err));
      }
      if (session) {
        if (this.closing) {
          await session.connection.close().catch(() => undefined);
          break;
        }
        this.session = session;
        for (const w of this.waiters.splice(0)) w();
        await session.closed;
        if (this.session === session) this.session = null;
        continue;
      }
      // Exponential backoff with jitter so a fleet of workers does not reconnect in lockstep.
      const base = Math.min(this.options.maxReconnectDelayMs ?? 5_000, 100 * 2 ** Math.min(attempt++, 8));
      await new Promise<void>((resolve) => {
        this.wakeLoop = resolve;
        sleep(base / 2 + Math.random() * (base / 2)).then(resolve);
      });
      this.wakeLoop = null;
    }
  }

  private async open(): Promise<Session> {
    const connection = await amqp.connect(this.options.url, { timeout: this.options.connectTimeoutMs ?? 3_000 });
    try {
      let markClosed!: () => void;
      const closed = new Promise<void>((r) => (markClosed = r));
      connection.on("error", (err) => this.options.onError?.(coerceError(err)));
      connection.on("close", () => markClosed());
      const publisher = await connection.createConfirmChannel();
      const consumer = await connection.createChannel();
      // A channel closed by the broker (e.g. a precondition failure) leaves the session half
      // broken; closing the connection makes the loop rebuild everything.
      for (const ch of [publisher, consumer]) {
        ch.on("error", (err) => this.options.onError?.(coerceError(err)));
        ch.on("close", () => void connection.close().catch(() => undefined));
      }
      await this.assertTopology(connection);
      await consumer.prefetch(this.options.prefetch ?? 8);
      const session: Session = { connection, publisher, consumer, consumerTag: null, closed };
      if (this.handler) await this.startConsumer(session);
      return session;
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw coerceError(err);
    }
  }

  private async assertTopology(connection: amqp.ChannelModel): Promise<void> {
    await declareTopology(connection, this, {
      queueType: this.options.queueType ?? "quorum",
      maxLength: this.options.maxLength ?? DEFAULT_QUEUE_MAX_LENGTH,
      deadLetterMaxLength: this.options.deadLetterMaxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH,
      ...(this.options.onUnbounded ? { onUnbounded: this.options.onUnbounded } : {}),
    });
  }

  private async startConsumer(session: Session): Promise<void> {
    if (session.consumerTag || !this.handler) return;
    const ch = session.consumer;
    const reply = await ch.consume(
      this.queue,
      (msg) => {
        if (!msg) return; // the broker cancelled us (queue deleted); the close handler reconnects
        void this.deliver(ch, msg);
      },
      { noAck: false },
    );
    session.consumerTag = reply.consumerTag;
  }

  private async deliver(ch: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    const jobId = parseMessage(msg.content);
    if (jobId === null) {
      // reject without requeue → the queue's dead-letter exchange → <queue>.dead.
      this.options.onDeadLetter?.("unparseable message");
      settle(() => ch.nack(msg, false, false), this.options.onError);
      return;
    }
    const handler = this.handler;
    let disposition: Disposition = "requeue";
    try {
      if (handler) disposition = await handler(jobId);
    } catch (err) {
      this.options.onError?.(coerceError(err));
    }
    // Give a struggling dependency a moment before the message comes back, instead of spinning
    // through redeliveries while Postgres is down.
    if (disposition === "requeue") await sleep(200);
    settle(() => (disposition === "ack" ? ch.ack(msg) : ch.nack(msg, false, true)), this.options.onError);
  }
}

/** Acks on a channel that closed meanwhile throw; the broker redelivers those messages anyway. */
function settle(fn: () => void, onError?: (err: Error) => void): void {
  try {
    fn();
  } catch (err) {
    const e = coerceError(err);
    if (!(e instanceof TimeoutError) && !/closed|closing/i.test(e.message)) onError?.(e);
  }
}

// The RabbitMQ layer: one durable queue of job ids (quorum by default), publisher confirms,
// manual acks, prefetch = WORKER_PREFETCH (by default 4 × the worker concurrency, which claims
// jobs ahead of the handlers: services/worker/worker.ts, config.ts's consumerPrefetch), and a
// dead-letter exchange + queue that receives messages the worker cannot parse. Reconnects on its
// own after a broker outage.
//
// Publisher and consumer live on separate connections, each kept open by its own reconnect loop
// (services/core/amqp-link.ts): every step of (re)connecting has a time limit, a half-open
// session is never reported connected, and a consumer that cannot start never keeps the
// publisher from working (a worker's sweeper and reaper publish). docs/broker-outages.md.
//
// A message carries only the job id ({"id": "<uuid>"}); Postgres holds everything else, so a
// duplicated, stale or reordered message can never carry a wrong payload.

import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { AckCoalescer } from "./acks.js";
import { AmqpEndpoints } from "./amqp-endpoints.js";
import { AmqpLink, destroyConnection, isConnectionGone, type LinkSession } from "./amqp-link.js";
import { coerceError, TimeoutError, withTimeout } from "./errors.js";
import { declareTopology, DEFAULT_DEAD_LETTER_MAX_LENGTH, DEFAULT_QUEUE_MAX_LENGTH, isPublishRejected } from "./queue-topology.js";
import { isUuid } from "./uuid.js";

export type Disposition = "ack" | "requeue";
/** Handles one job id. Resolves to what should happen to the message; a throw requeues it. */
export type MessageHandler = (jobId: string) => Promise<Disposition>;

export interface JobQueueOptions {
  /** One AMQP URL, or several nodes of a cluster tried in turn (services/core/amqp-endpoints.ts). */
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
  /** Unacked messages per consumer (the worker's: consumerPrefetch in config.ts, at least its concurrency). @default 8 */
  readonly prefetch?: number;
  /** How long publish() waits for the broker's confirm. @default 5000 */
  readonly publishTimeoutMs?: number;
  /** Limit of the TCP connect plus AMQP handshake. @default 3000 */
  readonly connectTimeoutMs?: number;
  /**
   * Limit of every other step of opening a session (channel, declarations, basic.consume) and of
   * depth(). On timeout the connection is destroyed and the loop retries. @default 10000
   */
  readonly stepTimeoutMs?: number;
  /**
   * Consecutive basic.consume timeouts after which the queue is taken for a leaderless quorum
   * queue and repaired (deleted and declared again; see repairLeaderlessQueue()). 0 = never.
   * @default 3
   */
  readonly repairAfterConsumeTimeouts?: number;
  /** Called after a repair emptied the queue: messages it held before are gone. */
  readonly onRepaired?: () => void;
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

interface PublisherSession extends LinkSession {
  readonly channel: amqp.ConfirmChannel;
  /** Message ids the broker returned as unroutable (basic.return comes before the confirm). */
  readonly returned: Map<string, number>;
  /** When (epoch ms) a nack last made us ask how full the queue is (see afterNack). */
  lastNackCheckAt: number;
}

/**
 * A quorum queue tells its publishers to resume once it is below 80 % of its bound again; a nack
 * from a queue below that is never the bound's (see JobQueue.afterNack).
 */
const RESUME_FRACTION = 0.8;
/** At most one depth check a second per session while publishes keep being refused. */
const NACK_CHECK_INTERVAL_MS = 1_000;

interface ConsumerSession extends LinkSession {
  readonly channel: amqp.Channel;
  consumerTag: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Extra time the repair's delete and declaration get beyond one step (see repairLeaderlessQueue). */
const REPAIR_SLACK_MS = 20_000;

/** Marks the error of a basic.consume that timed out (the leaderless-queue symptom). */
class ConsumeTimeoutError extends TimeoutError {}

export class JobQueue {
  readonly queue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
  private readonly publisher: AmqpLink<PublisherSession>;
  private consumer: AmqpLink<ConsumerSession> | null = null;
  private closing = false;
  private handler: MessageHandler | null = null;
  private consumeTimeouts = 0;
  private repairs = 0;
  private lastRepairStartedAt: number | null = null;
  private readonly endpoints: AmqpEndpoints;

  constructor(private readonly options: JobQueueOptions) {
    this.endpoints = new AmqpEndpoints(options.url);
    this.queue = options.queue;
    this.deadLetterExchange = `${options.queue}.dlx`;
    this.deadLetterQueue = `${options.queue}.dead`;
    this.publisher = new AmqpLink<PublisherSession>({
      ...this.linkOptions(`RabbitMQ publisher (${this.queue})`),
      setup: (connection, link) => this.setupPublisher(connection, link),
    });
  }

  /** True while the publisher session is fully open: what publish() needs. */
  isConnected(): boolean {
    return this.publisher.current !== null;
  }

  /** True while a consumer is registered with the broker. */
  isConsuming(): boolean {
    return (this.consumer?.current?.consumerTag ?? null) !== null;
  }

  /**
   * Since when (epoch ms) publishing, and consuming once consume() was called, has been
   * impossible; null while both work. The rabbitmq readiness check uses it, and through it the
   * liveness limit (services/core/readiness.ts, services/core/dependency-watch.ts).
   */
  unavailableSince(): number | null {
    const p = this.publisher.downSince;
    const consumer = this.handler !== null ? this.consumer : null;
    const c = consumer && !consumer.current?.consumerTag ? (consumer.downSince ?? Date.now()) : null;
    if (p === null) return c;
    if (c === null) return p;
    return Math.min(p, c);
  }

  /** How many times the queue was repaired as leaderless (metrics, tests). */
  get repairCount(): number {
    return this.repairs;
  }

  /** When (epoch ms) the last repair started; messages dispatched before it may be gone. */
  get lastRepairAt(): number | null {
    return this.lastRepairStartedAt;
  }

  /**
   * Starts connecting the publisher (and reconnecting after every loss until close()) and waits
   * up to `timeoutMs` for it. On timeout it rejects but keeps trying in the background, so a
   * process can start while the broker is still down.
   */
  async connect(timeoutMs = 10_000): Promise<void> {
    if (this.closing) throw new Error("queue is closed");
    await this.publisher.waitUp(timeoutMs).catch((err) => {
      throw new TimeoutError(`connecting to RabbitMQ (${this.queue}) timed out after ${timeoutMs} ms`, { cause: err });
    });
  }

  /** Publishes a job id; resolves once the broker confirmed it, rejects when it cannot. */
  async publish(jobId: string): Promise<void> {
    await this.publishRaw(encodeMessage(jobId), jobId);
  }

  /** Publishes raw bytes to the job queue (tests use it to send unparseable messages). */
  async publishRaw(content: Buffer, messageId: string = randomUUID()): Promise<void> {
    if (this.closing) throw new Error(`queue is closed: cannot publish to ${this.queue}`);
    this.publisher.start();
    const session = this.publisher.current;
    if (!session) throw new Error(`not connected to RabbitMQ: cannot publish to ${this.queue}`);
    const confirmed = new Promise<void>((resolve, reject) => {
      try {
        session.channel.sendToQueue(
          this.queue,
          content,
          // mandatory: a queue that does not exist (deleted, or being repaired) returns the message
          // instead of confirming a message that went nowhere.
          { persistent: true, mandatory: true, contentType: "application/json", messageId },
          (err) => {
            if (err) {
              const e = coerceError(err);
              if (isPublishRejected(e)) this.afterNack(session);
              return reject(e);
            }
            const n = session.returned.get(messageId) ?? 0;
            if (n === 0) return resolve();
            if (n === 1) session.returned.delete(messageId);
            else session.returned.set(messageId, n - 1);
            reject(new Error(`RabbitMQ returned the message: queue ${this.queue} does not exist`));
          },
        );
      } catch (err) {
        reject(coerceError(err));
      }
    });
    await withTimeout(confirmed, this.options.publishTimeoutMs ?? 5_000, `publish confirm from RabbitMQ`);
  }

  /**
   * Starts consuming with `handler` on a connection of its own (again after every reconnect,
   * until stopConsuming()). Waits up to `waitMs` for the consumer to start, then returns anyway:
   * the loop keeps trying in the background, and publishing does not depend on it.
   */
  async consume(handler: MessageHandler, waitMs = this.options.stepTimeoutMs ?? 10_000): Promise<void> {
    if (this.closing) throw new Error("queue is closed");
    this.handler = handler;
    if (!this.consumer) {
      this.consumer = new AmqpLink<ConsumerSession>({
        ...this.linkOptions(`RabbitMQ consumer (${this.queue})`),
        setup: (connection, link) => this.setupConsumer(connection, link),
        onAttemptFailed: (err) => this.afterConsumerAttempt(err),
      });
    } else {
      const s = this.consumer.current;
      if (s && !s.consumerTag) this.consumer.reset("consumer restarted"); // the new session consumes
    }
    await this.consumer.waitUp(waitMs).catch(() => undefined);
  }

  /** Stops taking new messages; unacked ones stay with this consumer until acked or the channel closes. */
  async stopConsuming(): Promise<void> {
    this.handler = null;
    const session = this.consumer?.current;
    if (session?.consumerTag) {
      const tag = session.consumerTag;
      session.consumerTag = null;
      await withTimeout(session.channel.cancel(tag), this.options.stepTimeoutMs ?? 10_000, "cancelling the consumer").catch((err) =>
        this.options.onError?.(coerceError(err)),
      );
    }
  }

  /** Message counts of the job queue and the dead-letter queue (tests, readiness). */
  async depth(): Promise<{ ready: number; dead: number }> {
    const session = this.publisher.current;
    if (!session) throw new Error("not connected to RabbitMQ");
    const limit = this.options.stepTimeoutMs ?? 10_000;
    const main = await withTimeout(session.channel.checkQueue(this.queue), limit, "checking the queue depth");
    const dead = await withTimeout(session.channel.checkQueue(this.deadLetterQueue), limit, "checking the dead-letter depth");
    return { ready: main.messageCount, dead: dead.messageCount };
  }

  /**
   * What AMQP itself can tell about the queues, by a passive declare of each (queue.declare
   * with passive=true answers message-count and consumer-count): messages ready for delivery
   * (delivered but unacknowledged ones are not in that count, and AMQP 0-9-1 has no way to ask
   * for them: only the management plugin's HTTP API or its Prometheus endpoint knows), the
   * consumers attached, and the messages waiting in the dead-letter queue.
   */
  async inspect(): Promise<{ ready: number; consumers: number; deadLettered: number }> {
    const session = this.publisher.current;
    if (!session) throw new Error(`not connected to RabbitMQ: cannot inspect ${this.queue}`);
    const limit = this.options.stepTimeoutMs ?? 10_000;
    const [main, dead] = await withTimeout(
      Promise.all([session.channel.checkQueue(this.queue), session.channel.checkQueue(this.deadLetterQueue)]),
      limit,
      "inspecting the queues",
    );
    return { ready: main.messageCount, consumers: main.consumerCount, deadLettered: dead.messageCount };
  }

  /** Closes both connections and stops reconnecting. Safe to call more than once. */
  async close(): Promise<void> {
    this.closing = true;
    this.handler = null;
    await Promise.all([this.consumer?.close(), this.publisher.close()]);
  }

  private linkOptions(name: string) {
    return {
      name,
      // Each attempt goes to the next node of the list, so a dead node is skipped on the retry.
      url: () => this.endpoints.next(),
      connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
      stepTimeoutMs: this.options.stepTimeoutMs ?? 10_000,
      maxReconnectDelayMs: this.options.maxReconnectDelayMs ?? 5_000,
      onError: this.options.onError,
    };
  }

  private async setupPublisher(connection: amqp.ChannelModel, link: AmqpLink<PublisherSession>): Promise<Omit<PublisherSession, "connection" | "closed">> {
    const channel = await link.step(connection, "opening the publisher channel", connection.createConfirmChannel());
    const returned = new Map<string, number>();
    channel.on("return", (msg: amqp.Message) => {
      const id = String(msg.properties.messageId ?? "");
      returned.set(id, (returned.get(id) ?? 0) + 1);
      // Declare the topology again in the background: the next publish finds the queue.
      void withTimeout(this.assertTopology(connection), this.options.stepTimeoutMs ?? 10_000, "declaring the queue again").catch(() => undefined);
    });
    this.watchChannel(connection, channel);
    await link.step(connection, "declaring the queue topology", this.assertTopology(connection));
    return { channel, returned, lastNackCheckAt: 0 };
  }

  /**
   * A nack is what a full queue answers (reject-publish), and what RabbitMQ 3.10 answers, for
   * good, on a channel whose first publish to a quorum queue came while the queue had no leader
   * (a leader election after a node died): that channel refuses every later publish too, while
   * the queue accepts them from every other channel (measured: docs/broker-outages.md). Nothing
   * but a new channel gets out of it, and a process that kept publishing on the old one would
   * leave every job undispatched, the sweeper's publishes included, without a single error. So
   * after a nack this asks the broker how many messages the queue holds (at most once a second
   * per session): below the point where a full queue resumes, the refusal is the channel's, and
   * the publisher starts over on a new connection. The refused publish itself fails as before:
   * its job stays undispatched for the sweeper.
   */
  private afterNack(session: PublisherSession): void {
    const now = Date.now();
    if (now - session.lastNackCheckAt < NACK_CHECK_INTERVAL_MS) return;
    session.lastNackCheckAt = now;
    const maxLength = this.options.maxLength ?? DEFAULT_QUEUE_MAX_LENGTH;
    const depth =
      maxLength > 0
        ? withTimeout(session.channel.checkQueue(this.queue), this.options.stepTimeoutMs ?? 10_000, "checking the queue after a nack").then((q) => q.messageCount)
        : Promise.resolve(0);
    void depth.then(
      (messages) => {
        if (maxLength > 0 && messages >= maxLength * RESUME_FRACTION) return; // full, or draining: the nack is the bound's
        if (this.publisher.current !== session) return; // already replaced
        this.options.onError?.(
          new Error(
            `RabbitMQ refused a publish to ${this.queue}, which holds ${messages} messages` +
              (maxLength > 0 ? ` of at most ${maxLength}` : "") +
              `: the publisher channel itself refuses (a quorum queue's leader changed as it started); publishing on a new connection`,
          ),
        );
        this.publisher.reset("publisher channel refuses publishes to a queue that is not full");
      },
      // The check failed: the channel or connection is going away, and the link opens a new one.
      () => undefined,
    );
  }

  private async setupConsumer(connection: amqp.ChannelModel, link: AmqpLink<ConsumerSession>): Promise<Omit<ConsumerSession, "connection" | "closed">> {
    const channel = await link.step(connection, "opening the consumer channel", connection.createChannel());
    this.watchChannel(connection, channel);
    await link.step(connection, "declaring the queue topology", this.assertTopology(connection));
    await link.step(connection, "setting the prefetch", channel.prefetch(this.options.prefetch ?? 8));
    let consumerTag: string | null = null;
    if (this.handler) {
      const started = channel.consume(
        this.queue,
        (msg) => {
          // null: the broker cancelled the consumer (queue deleted); a new session consumes again.
          if (!msg) return link.reset("consumer cancelled by the broker");
          acksOf(channel, this.options.onError).delivered(msg);
          void this.deliver(channel, msg);
        },
        { noAck: false },
      );
      try {
        consumerTag = (await link.step(connection, "starting the consumer (basic.consume)", started)).consumerTag;
      } catch (err) {
        const e = coerceError(err);
        throw e instanceof TimeoutError ? new ConsumeTimeoutError(e.message) : e;
      }
    }
    this.consumeTimeouts = 0;
    return { channel, consumerTag };
  }

  /** A channel closed by the broker (e.g. a precondition failure) leaves the session broken; rebuild it. */
  private watchChannel(connection: amqp.ChannelModel, channel: amqp.Channel): void {
    channel.on("error", (err: unknown) => {
      const e = coerceError(err);
      if (!isConnectionGone(e)) this.options.onError?.(e);
    });
    channel.on("close", () => destroyConnection(connection, "channel closed"));
  }

  /**
   * RabbitMQ 3.10 can bring a quorum queue back from a SIGKILL without a leader, for good: the
   * node forgets the queue's Ra server (its name registry is a dets file written up to 3 s
   * late), starts an empty replacement that waits to be told who leads, and every basic.consume
   * then hangs (the broker gives up after net_ticktime + 5 = 65 s with a 541 and the same happens
   * on the next try). Publishes are never confirmed either. Nothing but deleting the queue, or a
   * `ra:trigger_election` from rabbitmqctl, gets it out; the evidence is in
   * docs/broker-outages.md. So after `repairAfterConsumeTimeouts` consecutive consume timeouts,
   * each on a fresh connection, and only when the broker reports no consumer on the queue and a
   * last probing consume on yet another connection gets no answer either (so a queue another
   * worker has just repaired is left alone), this deletes the queue and declares it again. The replacement held nothing: an empty member
   * without a leader cannot have accepted a message. Messages of the lost member are gone either
   * way; Postgres still has their jobs, and `onRepaired` lets the worker dispatch them again.
   */
  private async afterConsumerAttempt(err: Error): Promise<void> {
    if (!(err instanceof ConsumeTimeoutError)) return;
    this.consumeTimeouts += 1;
    const after = this.options.repairAfterConsumeTimeouts ?? 3;
    if ((this.options.queueType ?? "quorum") !== "quorum" || after === 0 || this.consumeTimeouts < after) return;
    this.consumeTimeouts = 0;
    await this.repairLeaderlessQueue();
  }

  private async repairLeaderlessQueue(): Promise<void> {
    const limit = this.options.stepTimeoutMs ?? 10_000;
    const connection = await withTimeout(amqp.connect(this.endpoints.next(), { timeout: this.options.connectTimeoutMs ?? 3_000 }), limit, "connecting to repair the queue");
    connection.on("error", () => undefined);
    try {
      const ch = await withTimeout(connection.createChannel(), limit, "opening a channel to repair the queue");
      ch.on("error", () => undefined);
      const { consumerCount } = await withTimeout(ch.checkQueue(this.queue), limit, "checking the queue before repair");
      if (consumerCount > 0) return; // someone consumes from it: not the leaderless state
      // Last check, on this fresh connection: does the queue answer a consume now? It does when
      // the leader was only slow, or when another worker has just repaired it; deleting it then
      // would throw away messages. (Anything delivered to this probe goes back to the queue when
      // the connection is destroyed below: it is never acked.)
      const probe = await withTimeout(connection.createChannel(), limit, "opening a channel to probe the queue");
      probe.on("error", () => undefined);
      await withTimeout(probe.prefetch(1), limit, "setting the probe's prefetch");
      const answered = await withTimeout(probe.consume(this.queue, () => undefined, { noAck: false }), limit, "probing the queue with basic.consume").then(
        () => true,
        (err) => {
          if (err instanceof TimeoutError) return false;
          throw coerceError(err);
        },
      );
      if (answered) return;
      this.options.onError?.(
        new Error(`RabbitMQ queue ${this.queue} does not answer basic.consume (a quorum queue without a leader): deleting and declaring it again`),
      );
      const startedAt = Date.now();
      // The broker waits up to 5 s for the missing leader before it force-deletes the queue.
      await withTimeout(ch.deleteQueue(this.queue), limit + REPAIR_SLACK_MS, "deleting the leaderless queue");
      // From here on the queue's messages are gone whether or not the declaration below
      // completes, so the jobs they carried must be sent again either way: a declaration that
      // times out (seen with a 2 s step limit on a loaded machine) must not leave them waiting
      // for REDISPATCH_AFTER_MS. Their publishes fail until some declaration succeeds (the
      // consumer's next attempt declares the topology too), and the re-dispatch retries.
      this.repairs += 1;
      this.lastRepairStartedAt = startedAt;
      this.options.onRepaired?.();
      // A new quorum queue starts a Ra server on every member: longer than one step on a busy
      // broker, and a declaration cut short by destroying this connection is worth avoiding.
      await withTimeout(this.assertTopology(connection), limit + REPAIR_SLACK_MS, "declaring the queue again");
    } finally {
      destroyConnection(connection, "repair done");
    }
  }

  private async assertTopology(connection: amqp.ChannelModel): Promise<void> {
    await declareTopology(connection, this, {
      queueType: this.options.queueType ?? "quorum",
      maxLength: this.options.maxLength ?? DEFAULT_QUEUE_MAX_LENGTH,
      deadLetterMaxLength: this.options.deadLetterMaxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH,
      onUnbounded: this.options.onUnbounded,
    });
  }

  private async deliver(ch: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    const jobId = parseMessage(msg.content);
    if (jobId === null) {
      // reject without requeue → the queue's dead-letter exchange → <queue>.dead.
      this.options.onDeadLetter?.("unparseable message");
      acksOf(ch, this.options.onError).forget(msg);
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
    const acks = acksOf(ch, this.options.onError);
    if (disposition === "ack") return acks.ack(msg);
    acks.forget(msg);
    settle(() => ch.nack(msg, false, true), this.options.onError);
  }
}

/**
 * The ack coalescer of a consumer channel (services/core/acks.ts): jobs that finish together
 * (their completions share one batched statement) are acked with one `multiple` ack: fewer
 * frames for the worker to write and the broker to process.
 */
const coalescers = new WeakMap<amqp.Channel, AckCoalescer>();
function acksOf(ch: amqp.Channel, onError?: (err: Error) => void): AckCoalescer {
  let c = coalescers.get(ch);
  if (!c) coalescers.set(ch, (c = new AckCoalescer(ch, (fn) => settle(fn, onError))));
  return c;
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

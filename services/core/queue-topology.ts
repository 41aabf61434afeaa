// The broker topology of one job queue: the dead-letter exchange and queue, and the job queue,
// each bounded by a maximum length with `overflow: reject-publish` (docs/storage.md).
//
// A full job queue nacks the publish: the api's dispatch (or the sweeper's) fails, the job stays
// PENDING and undispatched in Postgres, and the sweeper sends it once the queue has room again.
// Nothing is lost and the api still answers 202. The dead-letter queue is bounded by length too,
// but with the default `drop-head`: dead letters arrive by dead-lettering, not from a publisher,
// and a quorum queue applies reject-publish only to publishers (measured on RabbitMQ 3.10: five
// dead letters all landed in a quorum DLQ bounded at two). drop-head keeps the newest ones; every
// one is still counted by jobstack_dead_lettered_total. A quorum queue takes one message beyond
// its bound (it checks the length before the enqueue); a classic queue stops at it.
//
// Upgrades: RabbitMQ refuses to redeclare a queue with other arguments (406 PRECONDITION_FAILED
// closes the channel). A queue declared by an older release without the bound is therefore used
// as it is, passively, and `onUnbounded` says so; the operator bounds it with a policy, which
// applies to existing queues (docs/storage.md, "Upgrading an existing queue"):
//   rabbitmqctl set_policy --apply-to queues jobstack-jobs '^jobs$' \
//     '{"max-length":1000000,"overflow":"reject-publish"}'
//   rabbitmqctl set_policy --apply-to queues jobstack-dead '^jobs\.dead$' '{"max-length":100000}'
// Declaring in each process (not only as a policy) keeps the bound in every deployment, `jobstack
// local` and the tests, which have no policy; where both exist, RabbitMQ applies the lower limit.

import type amqp from "amqplib";

/**
 * Default bounds, shared by QUEUE_MAX_LENGTH / DEAD_LETTER_MAX_LENGTH (config.ts) and JobQueue,
 * so every process of one release declares the same arguments and never meets the 406 path.
 */
export const DEFAULT_QUEUE_MAX_LENGTH = 1_000_000;
export const DEFAULT_DEAD_LETTER_MAX_LENGTH = 100_000;

export interface TopologyNames {
  readonly queue: string;
  readonly deadLetterExchange: string;
  readonly deadLetterQueue: string;
}

export interface TopologyOptions {
  readonly queueType: "quorum" | "classic";
  /** Ready messages the job queue holds before it refuses publishes; 0 = unbounded. */
  readonly maxLength: number;
  /** Dead letters kept (the oldest go first); 0 = unbounded. */
  readonly deadLetterMaxLength: number;
  /** Called for each queue found declared without the bound (an older release made it). */
  readonly onUnbounded?: ((queue: string, err: Error) => void) | undefined;
}

/** The x-arguments of a bounded queue: reject-publish for the job queue, drop-head (the default) for dead letters. */
export function boundArguments(type: "quorum" | "classic", maxLength: number, overflow: "reject-publish" | "drop-head"): Record<string, unknown> {
  return {
    "x-queue-type": type,
    ...(maxLength > 0 ? { "x-max-length": maxLength, "x-overflow": overflow } : {}),
  };
}

/** True when the broker refused a confirmed publish (a full queue with reject-publish nacks it). */
export function isPublishRejected(err: unknown): boolean {
  return err instanceof Error && /message nacked/i.test(err.message);
}

function isPreconditionFailed(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 406 || /PRECONDITION_FAILED/.test(String((err as Error)?.message));
}

/**
 * Declares the topology on short-lived channels of `connection`, so a refused declaration never
 * closes a channel the caller uses.
 */
export async function declareTopology(connection: amqp.ChannelModel, names: TopologyNames, o: TopologyOptions): Promise<void> {
  const ch = await connection.createChannel();
  try {
    await ch.assertExchange(names.deadLetterExchange, "fanout", { durable: true });
  } finally {
    await ch.close().catch(() => undefined);
  }
  await declareQueue(connection, names.deadLetterQueue, boundArguments(o.queueType, o.deadLetterMaxLength, "drop-head"), o);
  const bind = await connection.createChannel();
  try {
    await bind.bindQueue(names.deadLetterQueue, names.deadLetterExchange, "");
  } finally {
    await bind.close().catch(() => undefined);
  }
  await declareQueue(
    connection,
    names.queue,
    { ...boundArguments(o.queueType, o.maxLength, "reject-publish"), "x-dead-letter-exchange": names.deadLetterExchange },
    o,
  );
}

async function declareQueue(connection: amqp.ChannelModel, queue: string, args: Record<string, unknown>, o: TopologyOptions): Promise<void> {
  const ch = await connection.createChannel();
  // The broker closes the channel on a refused declaration; the error then arrives here too.
  ch.on("error", () => undefined);
  try {
    await ch.assertQueue(queue, { durable: true, arguments: args });
    await ch.close().catch(() => undefined);
    return;
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    o.onUnbounded?.(
      queue,
      new Error(
        `queue ${queue} exists with other arguments (declared by an older release, without the length bound); ` +
          `using it as it is: bound it with a policy (docs/storage.md)`,
      ),
    );
  }
  const check = await connection.createChannel();
  try {
    await check.checkQueue(queue);
  } finally {
    await check.close().catch(() => undefined);
  }
}

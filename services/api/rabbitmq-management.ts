/**
 * Queue depths from RabbitMQ's management plugin (HTTP API), for what AMQP cannot tell:
 * unacknowledged messages. Optional (RABBITMQ_MANAGEMENT_URL; docs/metrics.md): the stacks set it
 * for a bundled RabbitMQ (its `-management` image, port 15672 open to the api only); an external
 * RabbitMQ leaves it unset.
 *
 * The plugin refreshes its queue figures every `collect_statistics_interval` (5 s by default),
 * so these lag by up to that much; the ready count the api reports stays the passive declare's,
 * which is current.
 */
import { z } from "zod";

const QueueInfo = z.object({
  messages_ready: z.number().int().min(0).optional(),
  messages_unacknowledged: z.number().int().min(0).optional(),
});

export interface ManagementDepths {
  readonly ready: number | null;
  readonly unacked: number | null;
}

export type ManagementReader = (queue: string) => Promise<ManagementDepths>;

/**
 * A reader for `managementUrl` (`http://user:pass@host:15672`, credentials in the URL) and the
 * vhost of `amqpUrl` (its path; `/` when empty). Rejects on any failure, after `timeoutMs`.
 */
export function managementReader(managementUrl: string, amqpUrl: string, timeoutMs = 1000): ManagementReader {
  const base = new URL(managementUrl);
  const authorization =
    base.username || base.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString("base64")}`
      : undefined;
  base.username = "";
  base.password = "";
  const vhostPath = new URL(amqpUrl).pathname.slice(1);
  const vhost = vhostPath === "" ? "/" : decodeURIComponent(vhostPath);
  const root = base.toString().replace(/\/+$/, "");
  return async (queue) => {
    const url = `${root}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
    const res = await fetch(url, {
      headers: { accept: "application/json", ...(authorization && { authorization }) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`RabbitMQ management API answered ${res.status} for queue ${queue}`);
    const info = QueueInfo.parse(await res.json());
    // A queue the plugin has not sampled yet has no figures: unknown, not zero.
    return { ready: info.messages_ready ?? null, unacked: info.messages_unacknowledged ?? null };
  };
}

/**
 * The rabbitmq.conf body for the broker.
 *
 * - `vm_memory_high_watermark.absolute` = floor(containerMemoryMiB × 1 MiB × watermarkPercent / 100)
 *   bytes. Absolute, never relative: "Using an absolute memory threshold is highly recommended in
 *   containerized environments such as Kubernetes. RabbitMQ nodes won't always be able to detect
 *   the effective cgroups limit" (https://www.rabbitmq.com/docs/memory). The watermark is where
 *   publishers are blocked, not a cap — the node can exceed it (Erlang's GC may briefly need up to
 *   twice a process's heap), so watermarkPercent ≤ 90 keeps headroom below the OOM killer.
 * - `disk_free_limit.absolute` in bytes: publishers block when free disk falls below it
 *   (https://www.rabbitmq.com/docs/disk-alarms; RabbitMQ's own default is 50 MB, too low for
 *   production — the production checklist suggests about the node's memory).
 * - `consumer_timeout` in ms: a delivery not acked within it closes the channel and requeues the
 *   message (https://www.rabbitmq.com/docs/consumers#acknowledgement-timeout). It is checked
 *   once a minute, so values below 60 000 are not effective.
 * - `default_queue_type` (RabbitMQ ≥ 3.13.3, rabbitmq-server#11163): queues declared without
 *   `x-queue-type` get this type. The services still declare the type explicitly (from
 *   `settings.queueType`); this is the safety net for queues made by hand.
 * - `listeners.tcp.default = 5672`: AMQP on all interfaces of the container, so other containers
 *   on the dedicated network reach it; the port is never published (policy rule `data-ports`,
 *   stacks/policy/rules/data-ports.ts).
 *
 * - `loopback_users.guest = true`: `guest` may only connect from inside the container. This is
 *   RabbitMQ's own default, but the official image's /etc/rabbitmq/conf.d/10-defaults.conf sets
 *   it to `false` ("allow access to the guest user from anywhere"); this file is mounted later in
 *   conf.d (20-…), so it wins. Prod-like environments may not use insecure defaults (the others
 *   are refused in stacks/config/environment-checks.ts).
 *
 * Credentials are deliberately absent: the default user and password reach the container as
 * RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS (supported by the official image) from a
 * sensitive variable or Secret (policy rule `no-literal-secrets`, stacks/policy/rules/secrets.ts:
 * no literal passwords). With another default user set, the broker does not create `guest` at
 * all on first boot; the line above is the second fence.
 */
import { fmtNumber, smallestFitting, type TuningIssue } from "./issues.js";
import { MIB } from "./units.js";

export type RabbitQueueType = "quorum" | "classic";

export interface RabbitmqInput {
  readonly containerMemoryMiB: number;
  /** In (0, 90]. */
  readonly watermarkPercent: number;
  readonly diskFreeLimitMiB: number;
  readonly consumerTimeoutMs: number;
  readonly queueType: RabbitQueueType;
}

export interface RabbitmqTuning {
  readonly watermarkBytes: number;
  /** rabbitmq.conf body (sysctl-style), ending with a newline. */
  readonly conf: string;
  /** The conf's keys and values, plus `queueType` for the services' queue declarations. */
  readonly settings: Record<string, string>;
}

export const RABBITMQ_MAX_WATERMARK_PERCENT = 90;
/** An idle 3.13 node already uses ~100–130 MiB; below this the alarm would fire at once. */
export const RABBITMQ_MIN_WATERMARK_MIB = 128;
/** RabbitMQ's own default disk_free_limit (50 MB); less is never sensible. */
export const RABBITMQ_MIN_DISK_FREE_MIB = 50;
/** The broker checks consumer timeouts once a minute. */
export const RABBITMQ_MIN_CONSUMER_TIMEOUT_MS = 60_000;

const watermark = (i: RabbitmqInput): number => Math.floor((i.containerMemoryMiB * MIB * i.watermarkPercent) / 100);

export function rabbitmqIssues(i: RabbitmqInput): TuningIssue[] {
  const issues: TuningIssue[] = [];
  if (!(i.containerMemoryMiB > 0)) {
    issues.push({ path: "rabbitmq.memoryMiB", message: `rabbitmq.memoryMiB (${i.containerMemoryMiB}) must be a positive number of MiB` });
  }
  if (!(i.watermarkPercent > 0 && i.watermarkPercent <= RABBITMQ_MAX_WATERMARK_PERCENT)) {
    issues.push({
      path: "rabbitmq.watermarkPercent",
      message: `rabbitmq.watermarkPercent (${fmtNumber(i.watermarkPercent)}) must be above 0 and at most ${RABBITMQ_MAX_WATERMARK_PERCENT}: the node can exceed its watermark, and needs the rest of rabbitmq.memoryMiB as headroom`,
    });
  } else if (i.containerMemoryMiB > 0 && watermark(i) < RABBITMQ_MIN_WATERMARK_MIB * MIB) {
    const memThatFits = smallestFitting((RABBITMQ_MIN_WATERMARK_MIB * 100) / i.watermarkPercent, (mem) => watermark({ ...i, containerMemoryMiB: mem }) >= RABBITMQ_MIN_WATERMARK_MIB * MIB);
    issues.push({
      path: "rabbitmq.watermarkPercent",
      message:
        `rabbitmq.watermarkPercent (${fmtNumber(i.watermarkPercent)}%) of rabbitmq.memoryMiB (${i.containerMemoryMiB}) puts the memory alarm at ${Math.floor(watermark(i) / MIB)} MiB, ` +
        `below an idle node's footprint (${RABBITMQ_MIN_WATERMARK_MIB} MiB): publishers would be blocked at once; raise rabbitmq.watermarkPercent or raise rabbitmq.memoryMiB to ${memThatFits}`,
    });
  }
  if (!(Number.isInteger(i.diskFreeLimitMiB) && i.diskFreeLimitMiB >= RABBITMQ_MIN_DISK_FREE_MIB)) {
    issues.push({
      path: "rabbitmq.diskFreeLimitMiB",
      message: `rabbitmq.diskFreeLimitMiB (${i.diskFreeLimitMiB}) must be a whole number of MiB, at least ${RABBITMQ_MIN_DISK_FREE_MIB} (RabbitMQ's own default)`,
    });
  }
  if (!(Number.isInteger(i.consumerTimeoutMs) && i.consumerTimeoutMs >= RABBITMQ_MIN_CONSUMER_TIMEOUT_MS)) {
    issues.push({
      path: "rabbitmq.consumerTimeoutMs",
      message: `rabbitmq.consumerTimeoutMs (${i.consumerTimeoutMs}) must be a whole number of milliseconds, at least ${RABBITMQ_MIN_CONSUMER_TIMEOUT_MS}: the broker checks consumer timeouts once a minute`,
    });
  }
  if (i.queueType !== "quorum" && i.queueType !== "classic") {
    issues.push({ path: "rabbitmq.queueType", message: `rabbitmq.queueType ("${String(i.queueType)}") must be quorum or classic` });
  }
  return issues;
}

/** Call only on an input with no `rabbitmqIssues`. */
export function rabbitmqTuning(i: RabbitmqInput): RabbitmqTuning {
  const watermarkBytes = watermark(i);
  const conf: Record<string, string> = {
    "listeners.tcp.default": "5672",
    "vm_memory_high_watermark.absolute": String(watermarkBytes),
    "disk_free_limit.absolute": String(i.diskFreeLimitMiB * MIB),
    consumer_timeout: String(i.consumerTimeoutMs),
    default_queue_type: i.queueType,
    "loopback_users.guest": "true",
  };
  const body = [
    "# Generated by jobstack presets/tuning/rabbitmq.ts; credentials come from RABBITMQ_DEFAULT_USER/PASS.",
    ...Object.entries(conf).map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
  return { watermarkBytes, conf: body, settings: { ...conf, queueType: i.queueType } };
}

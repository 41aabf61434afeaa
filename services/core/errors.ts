// Error helpers shared by every service: turn anything thrown into an Error, decide whether a
// failure is worth retrying, and close several resources collecting every failure.

/** Anything thrown → an Error, keeping the original as `cause` when it was not one. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === "string") return new Error(err);
  let text: string;
  try {
    text = JSON.stringify(err) ?? String(err);
  } catch {
    text = String(err);
  }
  return new Error(`non-error thrown: ${text}`, { cause: err });
}

/**
 * Postgres SQLSTATEs that mean "try again, the statement itself was fine". Everything else
 * (constraint violations, syntax, permissions) fails the same way on every attempt.
 */
export const RETRYABLE_PG_CODES: Readonly<Record<string, string>> = {
  "40001": "serialization_failure",
  "40P01": "deadlock_detected",
  "55P03": "lock_not_available",
  "57014": "query_canceled (statement_timeout, e.g. a lock wait that outlived it)",
  "57P01": "admin_shutdown (server restarting)",
  "57P02": "crash_shutdown",
  "57P03": "cannot_connect_now (server starting)",
  "53300": "too_many_connections",
  "53400": "configuration_limit_exceeded",
  "08000": "connection_exception",
  "08001": "sqlclient_unable_to_establish_sqlconnection",
  "08003": "connection_does_not_exist",
  "08004": "sqlserver_rejected_establishment_of_sqlconnection",
  "08006": "connection_failure",
};

/**
 * AMQP reply codes that are transient: the broker closed the channel or connection for a
 * reason that a reconnect fixes. 404/406 (missing queue, mismatched arguments) are not.
 */
export const RETRYABLE_AMQP_CODES: Readonly<Record<number, string>> = {
  320: "CONNECTION_FORCED (broker shutting down)",
  501: "FRAME_ERROR",
  504: "CHANNEL_ERROR",
  505: "UNEXPECTED_FRAME",
  506: "RESOURCE_ERROR (memory or disk alarm)",
  541: "INTERNAL_ERROR",
};

/** Socket-level failures: the peer is down or unreachable, so a later attempt may work. */
export const RETRYABLE_NODE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** True when the error is a transient infrastructure failure rather than a bad request. */
export function isRetryableError(err: unknown): boolean {
  const e = coerceError(err) as Error & { code?: unknown };
  const code = e.code;
  if (typeof code === "string") {
    if (code in RETRYABLE_PG_CODES || RETRYABLE_NODE_CODES.has(code)) return true;
  }
  if (typeof code === "number" && code in RETRYABLE_AMQP_CODES) return true;
  if (e instanceof TimeoutError) return true;
  // pg reports a dropped socket, an exhausted pool (checkout timeout) and a server that stopped
  // answering (query_timeout) without a code.
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|not connected/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isRetryableError(e.cause);
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** Rejects with TimeoutError when `promise` has not settled after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every close step even when some fail, then throws one AggregateError naming them all.
 * Shutdown must not stop at the first broken connection and leak the rest.
 */
export async function closeAll(
  steps: ReadonlyArray<readonly [name: string, close: () => Promise<unknown> | unknown]>,
  message = "shutdown failed",
): Promise<void> {
  const failures: Error[] = [];
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (err) {
      const e = coerceError(err);
      failures.push(new Error(`${name}: ${e.message}`, { cause: e }));
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${message}: ${failures.map((f) => f.message).join("; ")}`);
}

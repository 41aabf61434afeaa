// The log line for a background dependency error (a reconnect attempt, a cache command).
// During an outage these repeat every few hundred milliseconds; one line per source per
// interval says the same thing without burying everything else.

import type { Logger } from "./logger.js";

/** Background reconnect errors: log each source at most this often. */
export const DEPENDENCY_ERROR_LOG_INTERVAL_MS = 10_000;

/** An `onError` for openDependencies: a "dependency error" warning, at most one per source per interval. */
export function throttledDependencyErrorLog(log: Logger, intervalMs = DEPENDENCY_ERROR_LOG_INTERVAL_MS): (source: string, err: Error) => void {
  const lastLogged = new Map<string, number>();
  return (source, err) => {
    const now = Date.now();
    if (now - (lastLogged.get(source) ?? -Infinity) < intervalMs) return;
    lastLogged.set(source, now);
    log.warn({ source, err }, "dependency error");
  };
}

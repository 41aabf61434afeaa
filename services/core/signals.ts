// Shutdown signals: the first SIGTERM or SIGINT starts a graceful stop; a second one means
// "now" (an operator pressing Ctrl-C twice, or an orchestrator out of patience).
// Shared by the services (run-service.ts) and `jobstack local` (cli/local.ts).

import type { Logger } from "./logger.js";

export type ShutdownSignal = "SIGTERM" | "SIGINT";

export interface SignalHandlers {
  readonly drain: (signal: ShutdownSignal) => void;
  readonly force: (signal: ShutdownSignal) => void;
}

/** The listener of exitOnSignalsBeforeStart, until onShutdownSignals replaces it. */
let beforeStart: { readonly remove: () => void } | null = null;

/**
 * From a service's first line until its own handlers are installed (runService), a shutdown
 * signal would kill the process by the signal's default action: a signal exit, which a supervisor
 * (or `jobstack local`) reads as a failure, for a stop that loses nothing, since nothing has been
 * served or consumed yet. With this installed such a signal exits 0 at once instead (open
 * connections close with the process). onShutdownSignals removes it.
 */
export function exitOnSignalsBeforeStart(log?: Pick<Logger, "info" | "flush">, signals: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"]): void {
  beforeStart?.remove();
  const listener = (signal: ShutdownSignal) => {
    log?.info({ signal }, "stopped before start-up finished");
    log?.flush();
    process.exit(0);
  };
  for (const s of signals) process.on(s, listener);
  beforeStart = {
    remove: () => {
      for (const s of signals) process.off(s, listener);
    },
  };
}

/** Installs the handlers; returns a function that removes them. */
export function onShutdownSignals(handlers: SignalHandlers, signals: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"]): () => void {
  beforeStart?.remove();
  beforeStart = null;
  let received = 0;
  const listener = (signal: ShutdownSignal) => {
    received += 1;
    if (received === 1) handlers.drain(signal);
    else handlers.force(signal);
  };
  for (const s of signals) process.on(s, listener);
  return () => {
    for (const s of signals) process.off(s, listener);
  };
}

/**
 * The exit code of a stop forced by a second signal: 130, whichever signal it was. Not 128 + n
 * of the second signal: two signals sent back to back may be handled in either order, and an
 * operator or a supervisor should see one code for "forced" (docs/services-contract.md).
 */
export const FORCED_EXIT_CODE = 130;

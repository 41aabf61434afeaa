// Shutdown signals: the first SIGTERM or SIGINT starts a graceful stop; a second one means
// "now" (an operator pressing Ctrl-C twice, or an orchestrator out of patience).
// Shared by the services (run-service.ts) and `jobstack local` (cli/local.ts).

import { constants } from "node:os";

export type ShutdownSignal = "SIGTERM" | "SIGINT";

export interface SignalHandlers {
  readonly drain: (signal: ShutdownSignal) => void;
  readonly force: (signal: ShutdownSignal) => void;
}

/** Installs the handlers; returns a function that removes them. */
export function onShutdownSignals(handlers: SignalHandlers, signals: readonly ShutdownSignal[] = ["SIGTERM", "SIGINT"]): () => void {
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
 * The exit code of a stop forced by `signal`: 128 + its number, what a shell reports for a
 * process that signal killed (130 for SIGINT, 143 for SIGTERM). docs/health-probes.md lists
 * every exit code.
 */
export function forcedExitCode(signal: ShutdownSignal): number {
  return 128 + constants.signals[signal];
}

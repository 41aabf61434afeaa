// Shutdown signals: the first SIGTERM or SIGINT starts a graceful drain; a second one means
// "now" (an operator pressing Ctrl-C twice, or an orchestrator out of patience).

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

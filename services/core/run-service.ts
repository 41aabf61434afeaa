// The process lifecycle shared by `npm run api` and `npm run worker`: start, then stop on
// SIGTERM/SIGINT. One place decides the exit codes (docs/services-contract.md, "Health and shutdown"):
//   0    stopped cleanly after the first signal
//   1    start-up failed, or a close step failed while stopping
//   130  a second signal (SIGTERM or SIGINT) forced the exit before the stop finished
// Exit 2 (bad configuration, a handler module that cannot load) happens before runService.

import { closeAll, coerceError } from "./errors.js";
import type { Logger } from "./logger.js";
import { FORCED_EXIT_CODE, onShutdownSignals } from "./signals.js";

export type CloseStep = readonly [name: string, close: () => Promise<unknown> | unknown];

export interface RunServiceOptions {
  readonly log: Logger;
  /** Starts serving (listen, consume). The signal handlers are already installed while it runs. */
  readonly start: () => Promise<void>;
  /**
   * What the first signal stops, in order. Every step runs even if an earlier one failed
   * (`closeAll`). Also run, best effort, when `start` fails.
   */
  readonly close: readonly CloseStep[];
  /** Logged with the first signal: what this service does while it stops. @default "stopping" */
  readonly stoppingMessage?: string;
}

/** Installs the signal handlers and starts the service; the process exits from here on a stop. */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { log } = options;
  let stopping = false;
  const exit = (code: number): never => {
    log.flush();
    process.exit(code);
  };
  onShutdownSignals({
    drain: (signal) => {
      stopping = true;
      log.info({ signal }, `${options.stoppingMessage ?? "stopping"} (signal again to exit now)`);
      void closeAll(options.close).then(
        () => {
          log.info("stopped");
          exit(0);
        },
        (err: unknown) => {
          log.error({ err: coerceError(err) }, "shutdown failed");
          exit(1);
        },
      );
    },
    force: (signal) => {
      log.warn({ signal }, "second signal: exiting now");
      exit(FORCED_EXIT_CODE);
    },
  });

  try {
    await options.start();
  } catch (err) {
    // A signal during start-up already owns the exit.
    if (stopping) return;
    log.error({ err: coerceError(err) }, "start-up failed");
    await closeAll(options.close).catch((closeErr: unknown) => log.error({ err: coerceError(closeErr) }, "closing after a failed start failed"));
    exit(1);
  }
}

/**
 * Signal handling for the competitor worker processes: the first SIGTERM/SIGINT closes the
 * worker gracefully and exits 0 (1 if closing fails); a second exits at once with 130.
 */
export function closeOnSignals(close: () => Promise<unknown>): void {
  let closing = false;
  const stop = () => {
    if (closing) process.exit(130);
    closing = true;
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

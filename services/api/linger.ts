/**
 * Lingering close for a request refused before its body was read (413 over BODY_LIMIT_BYTES).
 *
 * Closing a socket whose request body is still arriving makes the kernel answer with a reset,
 * and a reset can discard the 413 before the client reads it: the client sees a dropped
 * connection instead of the answer (test/reliability/hostile-input.test.ts caught this with
 * 4 MB bodies). Like nginx's lingering close, read and discard what is still coming for a short,
 * bounded time first; nothing is kept in memory, and a client that keeps sending is cut off when
 * the time is up.
 */
import type { IncomingMessage } from "node:http";

/** How long a refused body may keep arriving before the connection is closed anyway. */
export const LINGER_MS = 2_000;

/** Resolves once the request's body has been read to its end, or after `ms`. */
export function discardBody(req: IncomingMessage, ms = LINGER_MS): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      req.off("end", done).off("close", done).off("error", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    req.on("end", done).on("close", done).on("error", done);
    req.resume(); // flowing with no 'data' listener: the bytes are read and dropped
  });
}

/**
 * Port helpers for tests that start their own servers.
 *
 * `spareport()` asks the kernel for a free ephemeral port (listen on 0, read it, close). The
 * ephemeral range (32768+ on Linux) never includes the shared services' 5432/6379/5672, and we
 * refuse those explicitly anyway. There is a small race between close and the server's bind; the
 * start helpers surface a bind failure through the server's log.
 */
import net from "node:net";

/** Ports of the machine's shared servers: a throwaway must never take or touch these. */
export const SHARED_PORTS: ReadonlySet<number> = new Set([5432, 6379, 5672, 15672, 25672, 4369]);

export async function spareport(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const addr = srv.address();
        const p = typeof addr === "object" && addr !== null ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port > 0 && !SHARED_PORTS.has(port)) return port;
  }
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const done = (open: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(open);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Polls until the port stops accepting connections (a stopped server), or throws. */
export async function waitPortClosed(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await portOpen(port))) return;
    await sleep(50);
  }
  throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Calls `probe` until it resolves true; rejects with the last error (and `hint()`) at the deadline. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  hint: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  const lastMsg = last instanceof Error ? last.message : last === undefined ? "" : String(last);
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastMsg ? ` (last error: ${lastMsg})` : ""}\n${hint()}`);
}

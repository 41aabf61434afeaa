/**
 * A raw HTTP/1.1 client over a TCP socket, for requests no well-behaved client would send:
 * invalid bytes in paths and headers, wrong lengths, odd methods. One request per connection
 * (`Connection: close`), and the answer is whatever status line came back, or how the
 * connection ended without one.
 */
import net from "node:net";

export interface RawRequest {
  readonly method: string;
  /** Sent as is: no encoding, no validation. */
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Sets Content-Length to the body's length unless a header already gives one. @default true */
  readonly contentLength?: boolean;
  /** Leave out the Host header. @default false */
  readonly noHost?: boolean;
}

export type RawResponse =
  | { readonly kind: "response"; readonly status: number; readonly head: string; readonly body: string }
  | { readonly kind: "dropped"; readonly reason: string };

/** Serialises a request exactly as given (header names and values are not checked). */
export function encodeRequest(req: RawRequest): Buffer {
  const headers = [...req.headers];
  const hasLength = headers.some(([k]) => k.toLowerCase() === "content-length");
  if (req.body && (req.contentLength ?? true) && !hasLength) headers.push(["Content-Length", String(req.body.length)]);
  if (!headers.some(([k]) => k.toLowerCase() === "connection")) headers.push(["Connection", "close"]);
  // HTTP/1.1 requires Host (Node answers 400 without it); `noHost` leaves it out on purpose.
  if (!req.noHost && !headers.some(([k]) => k.toLowerCase() === "host")) headers.unshift(["Host", "localhost"]);
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), req.body ?? Buffer.alloc(0)]);
}

/**
 * Sends one request and reads until the server closes the connection. A response counts when
 * a full status line arrived, even if the connection was reset afterwards (a server that
 * answers 413 early may close while the client is still writing).
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 30_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text);
      if (m) {
        const split = text.indexOf("\r\n\r\n");
        resolve({ kind: "response", status: Number(m[1]), head: split < 0 ? text : text.slice(0, split), body: split < 0 ? "" : text.slice(split + 4) });
      } else {
        resolve({ kind: "dropped", reason: `${why}; received ${JSON.stringify(text.slice(0, 200))}` });
      }
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("end", () => finish("closed by the server"));
    sock.on("close", () => finish("connection closed"));
    sock.on("error", (err) => finish(`socket error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    sock.on("connect", () => {
      sock.write(bytes, () => undefined);
    });
  });
}

// One RabbitMQ connection kept open by a reconnect loop: the building block of services/core/queue.ts,
// which runs two of them (publisher and consumer) so that neither can stall the other.
//
// The rules (docs/broker-outages.md):
// - every step of opening a session — TCP connect and AMQP handshake, each channel, each
//   declaration, basic.consume — runs under a time limit (`step()`); a step that times out
//   destroys the socket (a graceful close would wait for the same silent broker) and the loop
//   retries with exponential backoff and jitter;
// - a session is reported up only once every step succeeded, so a half-open session is never
//   used or reported as connected;
// - `downSince` says how long the link has been without a session, for liveness.

import amqp from "amqplib";
import { coerceError, TimeoutError, withTimeout } from "./errors.js";

export interface LinkSession {
  readonly connection: amqp.ChannelModel;
  /** Resolves when the connection is gone (closed by either side or destroyed). */
  readonly closed: Promise<void>;
}

export interface AmqpLinkOptions<S extends LinkSession> {
  /** For error messages: "RabbitMQ publisher (jobs)". */
  readonly name: string;
  /** Builds a session on a fresh connection; `link.step()` bounds each of its steps. */
  readonly setup: (connection: amqp.ChannelModel, link: AmqpLink<S>) => Promise<Omit<S, "connection" | "closed">>;
  /** The URL of each connection attempt (a cluster's nodes in turn: services/core/amqp-endpoints.ts). */
  readonly url: () => string;
  /** Limit of the TCP connect plus AMQP handshake. */
  readonly connectTimeoutMs: number;
  /** Limit of each later step (channel, declaration, basic.consume). */
  readonly stepTimeoutMs: number;
  /** Upper bound of the reconnect delay. */
  readonly maxReconnectDelayMs: number;
  readonly onError?: ((err: Error) => void) | undefined;
  /** Called after each failed attempt with the error; lets the owner react (e.g. repair). */
  readonly onAttemptFailed?: (err: Error) => Promise<void> | void;
  readonly onUp?: (session: S) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Tears the socket down at once: `close()` would wait for a close-ok a stalled broker never sends. */
export function destroyConnection(connection: amqp.ChannelModel, why: string): void {
  const stream = (connection.connection as unknown as { stream?: { destroy(err?: Error): void } }).stream;
  try {
    stream?.destroy(new Error(why));
  } catch {
    // already gone
  }
}

/** A connection error that means "the broker went away", not worth a log line of its own. */
export function isConnectionGone(err: Error): boolean {
  return /closed|closing|ECONNRESET|EPIPE|Unexpected close|destroyed/i.test(err.message);
}

export class AmqpLink<S extends LinkSession> {
  private session: S | null = null;
  private loop: Promise<void> | null = null;
  private closing = false;
  private waiters: Array<() => void> = [];
  private wakeLoop: (() => void) | null = null;
  private downSinceMs: number | null = Date.now();

  constructor(private readonly o: AmqpLinkOptions<S>) {}

  get current(): S | null {
    return this.session;
  }

  /** Since when (epoch ms) the link has had no session; null while it has one. */
  get downSince(): number | null {
    return this.downSinceMs;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Starts the loop once; later calls are no-ops. */
  start(): void {
    if (this.closing) throw new Error(`${this.o.name} is closed`);
    this.loop ??= this.run();
  }

  /** Resolves once a session is up; rejects with TimeoutError after `timeoutMs` (the loop goes on). */
  async waitUp(timeoutMs: number): Promise<void> {
    this.start();
    if (this.session) return;
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    await withTimeout(ready, timeoutMs, `connecting the ${this.o.name}`);
  }

  /** Runs one step of opening a session under the time limit; on timeout the connection is destroyed. */
  async step<T>(connection: amqp.ChannelModel, what: string, work: Promise<T>): Promise<T> {
    try {
      return await withTimeout(work, this.o.stepTimeoutMs, `${this.o.name}: ${what}`);
    } catch (err) {
      const e = coerceError(err);
      if (e instanceof TimeoutError) destroyConnection(connection, e.message);
      throw e;
    }
  }

  /** Drops the current session (e.g. its channel broke); the loop opens a new one. */
  reset(why: string): void {
    const s = this.session;
    if (s) destroyConnection(s.connection, why);
  }

  /** Closes the session and stops reconnecting. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.wakeLoop?.();
      const s = this.session;
      this.session = null;
      if (s) {
        // A graceful close lets the broker requeue unacked messages at once; bounded, since a
        // stalled broker would never answer it.
        await withTimeout(s.connection.close(), this.o.stepTimeoutMs, `closing the ${this.o.name}`).catch(() =>
          destroyConnection(s.connection, "closing"),
        );
      }
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      let session: S | null = null;
      try {
        session = await this.open();
        attempt = 0;
      } catch (err) {
        const e = coerceError(err);
        this.o.onError?.(e);
        try {
          await this.o.onAttemptFailed?.(e);
        } catch (hookErr) {
          this.o.onError?.(coerceError(hookErr));
        }
      }
      if (session) {
        if (this.closing) {
          destroyConnection(session.connection, "closing");
          break;
        }
        this.session = session;
        this.downSinceMs = null;
        this.o.onUp?.(session);
        for (const w of this.waiters.splice(0)) w();
        await session.closed;
        if (this.session === session) {
          this.session = null;
          this.downSinceMs = Date.now();
        }
        continue;
      }
      // Exponential backoff with jitter so a fleet of processes does not reconnect in lockstep.
      const base = Math.min(this.o.maxReconnectDelayMs, 100 * 2 ** Math.min(attempt++, 8));
      await new Promise<void>((resolve) => {
        this.wakeLoop = resolve;
        void sleep(base / 2 + Math.random() * (base / 2)).then(resolve);
      });
      this.wakeLoop = null;
    }
  }

  private async open(): Promise<S> {
    // amqplib's own `timeout` covers the socket until the handshake ends; the outer limit also
    // covers a broker that accepts the socket and then says nothing at all.
    const connecting = amqp.connect(this.o.url(), { timeout: this.o.connectTimeoutMs });
    let connection: amqp.ChannelModel;
    try {
      connection = await withTimeout(connecting, this.o.connectTimeoutMs, `${this.o.name}: connecting`);
    } catch (err) {
      // A connection that completes after the deadline must not leak.
      connecting.then((late) => destroyConnection(late, "connected too late"), () => undefined);
      throw coerceError(err);
    }
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));
    connection.on("error", (err: unknown) => {
      const e = coerceError(err);
      if (!isConnectionGone(e)) this.o.onError?.(e);
    });
    connection.on("close", () => markClosed());
    try {
      if (this.closing) throw new Error(`${this.o.name} is closed`);
      const rest = await this.o.setup(connection, this);
      return { ...rest, connection, closed } as S;
    } catch (err) {
      destroyConnection(connection, "session setup failed");
      throw coerceError(err);
    }
  }
}

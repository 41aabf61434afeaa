// Group commit for independent statements: items go out at the end of the event loop's turn
// (setImmediate) while fewer than `concurrency` statements are in flight; items that arrive
// meanwhile go out together in the next one. An idle process waits for one turn, no more; a
// busy one sends one statement (one round trip, one commit) per batch instead of one per item.
// The turn matters because work arrives in bursts within one: the deliveries parsed from one
// socket read, the handlers that return together after a batch of claims, the requests of one
// poll phase. Sending the first item of a burst at once would split it in two statements or more.
//
// Why: on the 2-core bench machine every round trip costs CPU in the client, in Postgres (a
// commit each) and in the kernel. `npm run bench -- --only jobs --quick` (noop, 2 workers × 8,
// 32 enqueues in flight), direct enqueue path: batching submissions and dispatch marks took it
// from 6.3 to 4.2 ms of CPU per job (290 → 435 jobs/s); batching claims and completions as well,
// with one statement in flight, to 3.8 ms (456 jobs/s). Two in flight measured 4.2 ms (432/s):
// within the noise, and it keeps one batch stuck on a row lock from stalling every later item,
// so two is the default.

export interface BatcherOptions<I, O> {
  /** Runs one item on its own (the common case when idle, and the fallback). */
  readonly one: (item: I) => Promise<O>;
  /** Runs several items in one statement; returns one result per item, in order. */
  readonly many: (items: readonly I[]) => Promise<O[]>;
  /**
   * When `many` fails, run each item on its own, so one bad item (or a deadlock victim) never
   * fails its neighbours. @default false
   */
  readonly isolateFailures?: boolean;
  /** Largest batch. @default 500 */
  readonly limit?: number;
  /**
   * Statements in flight at once. More than one keeps a batch that waits for a row lock (the
   * sweeper holds its rows while it publishes) from holding up every later item. @default 2
   */
  readonly concurrency?: number;
  /**
   * Items with the same key never share a batch: the later one goes in a later statement
   * (e.g. two messages for one job: each must see the other's outcome). @default none
   */
  readonly key?: (item: I) => string;
  /**
   * For work nobody waits on (dispatch marks): a batch smaller than `limit` waits until its
   * oldest item is this old, so more items join it; flush() sends everything at once. @default 0
   */
  readonly lingerMs?: number;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
  /** When run() was called (performance.now()), for lingerMs. */
  readonly since: number;
}

export class Batcher<I, O> {
  private readonly queue: Waiting<I, O>[] = [];
  private inFlight = 0;
  private readonly sending = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private flushing = 0;
  private pumpScheduled = false;

  constructor(private readonly o: BatcherOptions<I, O>) {}

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, since: performance.now() });
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        // The rest of this turn's items join the batch (see the header).
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Sends every waiting item now, lingering or not, and resolves once all have settled. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      for (this.pump(); this.sending.size > 0; this.pump()) await Promise.race(this.sending);
    } finally {
      this.flushing--;
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < (this.o.concurrency ?? 2) && !this.lingering()) {
      const batch = this.take();
      this.inFlight++;
      const sent: Promise<void> = this.send(batch).finally(() => {
        this.inFlight--;
        this.sending.delete(sent);
        this.pump();
      });
      this.sending.add(sent);
    }
  }

  /** True while the next batch should wait for more items (lingerMs); a timer pumps it later. */
  private lingering(): boolean {
    const linger = this.o.lingerMs ?? 0;
    if (linger <= 0 || this.flushing > 0 || this.queue.length >= (this.o.limit ?? 500)) return false;
    const wait = this.queue[0]!.since + linger - performance.now();
    if (wait <= 0) return false;
    if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.pump();
      }, Math.ceil(wait));
      // A process may exit with marks still waiting: they are hints (see their caller), and
      // whoever closes the process flushes them first.
      this.lingerTimer.unref();
    }
    return true;
  }

  private async send(batch: Waiting<I, O>[]): Promise<void> {
    if (batch.length === 1) return settle(batch[0]!, this.o.one);
    try {
      const results = await this.o.many(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      if (!this.o.isolateFailures) {
        for (const w of batch) w.reject(err);
        return;
      }
      await Promise.all(batch.map((w) => settle(w, this.o.one)));
    }
  }

  /** The next batch: oldest first, at most `limit`, one item per key; the rest keep their order. */
  private take(): Waiting<I, O>[] {
    const limit = this.o.limit ?? 500;
    const key = this.o.key;
    if (!key) return this.queue.splice(0, limit);
    const batch: Waiting<I, O>[] = [];
    const keys = new Set<string>();
    const rest: Waiting<I, O>[] = [];
    for (const w of this.queue) {
      const k = key(w.item);
      if (batch.length < limit && !keys.has(k)) {
        keys.add(k);
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }
}

async function settle<I, O>(w: Waiting<I, O>, fn: (item: I) => Promise<O>): Promise<void> {
  try {
    w.resolve(await fn(w.item));
  } catch (err) {
    w.reject(err);
  }
}

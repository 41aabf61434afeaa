// Handler slots: at most `limit` handlers run at once in a worker, while the prefetch window
// (WORKER_PREFETCH, by default 4 × the concurrency) lets more jobs be claimed ahead of them,
// their leases renewed meanwhile (./leases.ts). A claimed job waits here, first come first
// served, until a running handler returns; drain() turns the waiting ones away so they can be
// handed back without ever starting.

/** Gives the slot back; calling it more than once is harmless. */
export type FreeSlot = () => void;

export class HandlerSlots {
  private running = 0;
  private readonly waiting: ((free: FreeSlot | null) => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves to the slot once one is free, or to null when cancelWaiting() turned the caller away. */
  acquire(): Promise<FreeSlot | null> {
    if (this.running < this.limit) return Promise.resolve(this.take());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Every caller still waiting gets null (a draining worker releases their jobs instead). */
  cancelWaiting(): void {
    for (const resolve of this.waiting.splice(0)) resolve(null);
  }

  private take(): FreeSlot {
    this.running++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter: the running count stays the same.
      if (next) next(this.handOver());
      else this.running--;
    };
  }

  /** A slot that changes hands without being counted twice. */
  private handOver(): FreeSlot {
    this.running--;
    return this.take();
  }
}

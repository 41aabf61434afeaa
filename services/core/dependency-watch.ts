/**
 * Watches the dependencies in the background and remembers since when each is up or down, so
 * that liveness can be answered from memory (a liveness probe must stay cheap and must not wait
 * on a hung server) and `jobstack_dependency_up{dependency}` stays current between scrapes.
 *
 * Liveness (docs/health-probes.md): a process fails it once a dependency it cannot work without
 * (`livenessRequired`) has been unreachable for longer than `limitMs`
 * (DEPENDENCY_LIVENESS_LIMIT_MS), so Kubernetes restarts a process that is wedged, while a short
 * outage, which readiness reports at once, does not restart the fleet. A dependency never reached
 * since start counts as down since start.
 */
import type { Gauge } from "prom-client";
import { checkReadiness, type DependencyState, type ReadinessCheck } from "./readiness.js";

export interface WatchedState {
  readonly up: boolean;
  /** Epoch ms of the last change (or of the first observation). */
  readonly since: number;
  readonly error?: string;
}

export interface LivenessReport {
  readonly live: boolean;
  readonly limitMs: number;
  /** Required dependencies down longer than the limit, with how long. */
  readonly failing: Record<string, { downForMs: number; error?: string }>;
}

export interface DependencyWatchOptions {
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** Dependencies whose long outage fails liveness. */
  readonly livenessRequired: readonly string[];
  readonly limitMs: number;
  /** @default 5000 */
  readonly intervalMs?: number;
  /** Per-check timeout of a background pass. @default 2000 */
  readonly timeoutMs?: number;
  readonly gauge?: Gauge<"dependency">;
  readonly now?: () => number;
}

export class DependencyWatch {
  private readonly states = new Map<string, WatchedState>();
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  private started = false;
  private stopped = false;

  constructor(private readonly o: DependencyWatchOptions) {
    this.startedAt = this.now();
  }

  /** Runs a pass now and then every `intervalMs` until stop(). */
  start(): void {
    // Not `this.timer`: it is set only after the first pass, and a second start() before then
    // would have started a second loop.
    if (this.started || this.stopped) return;
    this.started = true;
    const tick = () => {
      this.pass = this.checkOnce().finally(() => {
        this.pass = null;
        if (!this.stopped) {
          this.timer = setTimeout(tick, this.o.intervalMs ?? 5_000);
          this.timer.unref();
        }
      });
    };
    tick();
  }

  /** Stops the timer and waits for a pass in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass;
  }

  /** One background pass over every check. */
  async checkOnce(): Promise<void> {
    const report = await checkReadiness(this.o.checks, this.o.timeoutMs ?? 2_000);
    this.observe(report.dependencies);
  }

  /** Records results from elsewhere too (every /readyz call), so the state is as fresh as possible. */
  observe(dependencies: Readonly<Record<string, DependencyState>>): void {
    const now = this.now();
    for (const [name, state] of Object.entries(dependencies)) {
      const prev = this.states.get(name);
      const since = prev && prev.up === state.ok ? prev.since : prev || state.ok ? now : this.startedAt;
      this.states.set(name, { up: state.ok, since, ...(state.error ? { error: state.error } : {}) });
      this.o.gauge?.set({ dependency: name }, state.ok ? 1 : 0);
    }
  }

  state(name: string): WatchedState | undefined {
    return this.states.get(name);
  }

  liveness(): LivenessReport {
    const now = this.now();
    const failing: Record<string, { downForMs: number; error?: string }> = {};
    for (const name of this.o.livenessRequired) {
      const s = this.states.get(name);
      // Not observed yet: the first pass is still running; count from start.
      const downSince = s === undefined ? this.startedAt : s.up ? null : s.since;
      if (downSince === null) continue;
      const downForMs = now - downSince;
      if (downForMs > this.o.limitMs) failing[name] = { downForMs, ...(s?.error ? { error: s.error } : {}) };
    }
    return { live: Object.keys(failing).length === 0, limitMs: this.o.limitMs, failing };
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }
}

/**
 * What each benchmark measures, as stored in bench/results/<name>.json and read back by the
 * report (bench/lib/render.ts). The runners produce these and the renderer only reads them, so
 * both depend on this module and not on each other.
 */
import type { WorkloadName } from "../jobs/handlers.js";
import type { MachineInfo } from "./env.js";
import type { Summary } from "./stats.js";

/** One results file, bench/results/<name>.json. */
export interface Stored<T> {
  readonly name: string;
  readonly machine: MachineInfo;
  readonly quick: boolean;
  /** The command-line arguments of the run. */
  readonly args: readonly string[];
  readonly durationMs: number;
  readonly result: T;
}

// Job throughput, bench/jobs.ts

export interface JobsSample {
  readonly enqueueMs: number;
  readonly drainMs: number;
  readonly failed: number;
  /** CPU ms spent by each component during the run (bench/lib/cpu.ts); empty without /proc. */
  readonly cpuMs: Readonly<Record<string, number>>;
}

export interface JobsSystemResult {
  readonly system: string;
  /** Short name in the summary line. */
  readonly key?: string;
  readonly samples: readonly JobsSample[];
  readonly enqueueMs: Summary;
  readonly drainMs: Summary;
  /** Jobs per second, end to end (count / drain), per sample. */
  readonly throughput: Summary;
  /** Median throughput / the baseline's median throughput: > 1 is faster than jobstack. */
  readonly throughputRatio: number;
  /** Median enqueue time / the baseline's: < 1 enqueues faster than jobstack. */
  readonly enqueueRatio: number;
  /** CPU ms per job by component (median over the runs), and their sum as "total". */
  readonly cpuMsPerJob: Readonly<Record<string, number>>;
}

export interface JobsWorkloadResult {
  readonly workload: WorkloadName;
  readonly job: { readonly type: string; readonly payload: unknown };
  readonly count: number;
  readonly baseline: string;
  readonly order: readonly (readonly string[])[];
  readonly systems: readonly JobsSystemResult[];
}

export interface JobsResult {
  readonly settings: { reps: number; workers: number; concurrency: number; inFlight: number; warmup: number };
  readonly workloads: readonly JobsWorkloadResult[];
}

// Synth time and memory, bench/synth.ts

export type SynthVariant = "app" | "app+root" | "deep" | "root";

export interface SynthSample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssBytes: number;
}

export interface SynthResult {
  readonly reps: number;
  readonly order: readonly (readonly SynthVariant[])[];
  readonly samples: Readonly<Record<string, readonly SynthSample[]>>;
  readonly summaries: Readonly<Record<string, { wallMs: Summary; cpuMs: Summary; maxRssBytes: Summary }>>;
  readonly pairs: readonly {
    readonly name: string;
    readonly baseline: SynthVariant;
    readonly naive: SynthVariant;
    /** naive / baseline, from the medians. */
    readonly ratio: { wallMs: number; cpuMs: number; maxRssBytes: number };
    /** naive − baseline, from the medians. */
    readonly extra: { wallMs: number; cpuMs: number; maxRssBytes: number };
  }[];
}

// Job search latency, bench/search.ts

export interface SearchQueryResult {
  readonly name: string;
  readonly path: string;
  /** Items in the answer. */
  readonly items: number;
  /** End to end over HTTP. */
  readonly samplesMs: readonly number[];
  readonly ms: Summary;
  readonly p95Ms: number;
  /** The repository's search call alone (one round trip to Postgres), for the page queries. */
  readonly dbSamplesMs?: readonly number[];
  readonly dbMs?: Summary;
  /** The search statement's plan, one line per node (absent for stats). */
  readonly plan?: readonly string[];
}

export interface SearchResult {
  readonly rows: number;
  readonly fillMs: number;
  readonly tableMiB: number;
  readonly indexMiB: Readonly<Record<string, number>>;
  readonly queries: readonly SearchQueryResult[];
}

// Bytes per job and deletion cost, bench/storage.ts

export interface StorageResult {
  readonly jobs: number;
  readonly payloadBytes: number;
  readonly bytesPerJob: { readonly jobsTable: number; readonly audit: number; readonly total: number };
  readonly deleteRowsMs: number;
  readonly deleteJobsThenDropMs: { readonly jobs: number; readonly drop: number; readonly total: number };
}

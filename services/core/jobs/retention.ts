// Retention: how final jobs and their audit rows leave Postgres (docs/storage.md).
//
// - Jobs: deleted in small batches by age once final (COMPLETED, FAILED, CANCELLED) for longer
//   than their state's retention. One statement per batch, `for update skip locked`, a pause
//   between batches, so the hot path never waits on a long delete.
// - Audit rows: job_transitions is partitioned by job id (UUIDv7 = creation time, migration
//   003). Partitions are created ahead, and a partition whose span ended longer ago than the
//   completed and cancelled retention is dropped whole; the audit rows of the few jobs of that
//   span that still exist (failed jobs kept longer, jobs still running) are moved to the default
//   partition first, in the same transaction, and deleted from there with their job.
//
// Evidence for dropping instead of deleting audit rows (docs/storage.md; bench/storage.ts on a
// shared 2-core VM, 50,000 completed jobs, batches of 500): deleting the jobs with their 150,000
// audit rows took 3,978 ms under load and 1,173 ms on a quieter run; deleting the jobs alone and
// dropping the audit partition took 1,831 + 40 ms and 180 + 12 ms (2.1× and 6.1× less), and the
// drop leaves no dead audit rows for vacuum.

import type pg from "pg";
import { coerceError } from "../errors.js";
import * as q from "./retention-queries.js";

export type FinalState = "COMPLETED" | "FAILED" | "CANCELLED";

/** Seconds a final job is kept after it reached its state; 0 = forever. */
export interface RetentionWindow {
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

export interface JobRetentionOptions {
  readonly window: RetentionWindow;
  /** Jobs per delete statement. @default 500 */
  readonly batchSize?: number;
  /** Pause between two delete statements. @default 50 */
  readonly batchPauseMs?: number;
  /** Span of one audit partition, in seconds of job creation time. @default 86400 */
  readonly partitionSeconds?: number;
  /** Partitions kept ready ahead of now. @default 3 */
  readonly partitionsAhead?: number;
  /** A partition with more surviving jobs than this waits for them to go. @default 50000 */
  readonly maxSurvivors?: number;
  readonly onError?: (err: Error) => void;
}

export interface PartitionInfo {
  readonly name: string;
  /** Creation time (ms) of the range's first id; null for minvalue. Default partition: not listed. */
  readonly fromMs: number | null;
  readonly toMs: number;
}

export interface DropResult {
  readonly dropped: readonly string[];
  readonly survivorsMoved: number;
}

// Arbitrary constant: one worker at a time creates and drops partitions (pg_try_advisory_lock).
const PARTITION_LOCK_KEY = 7_201_004_315;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The smallest UUIDv7 of millisecond `ms`: the bound of a partition that starts at `ms`. */
export function uuidv7Floor(ms: number): string {
  const h = Math.floor(ms).toString(16).padStart(12, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-0000-0000-000000000000`;
}

/** The creation time (ms) a UUIDv7 carries. */
export function uuidv7Ms(id: string): number {
  return Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
}

/** Parses `pg_get_expr(relpartbound)` of a range partition; null for the default partition. */
export function parsePartitionBound(name: string, bound: string): PartitionInfo | null {
  const m = /^FOR VALUES FROM \((MINVALUE|'[0-9a-f-]{36}')\) TO \('([0-9a-f-]{36})'\)$/.exec(bound);
  if (!m) return null;
  const from = m[1] === "MINVALUE" ? null : uuidv7Ms(m[1]!.slice(1, -1));
  return { name, fromMs: from, toMs: uuidv7Ms(m[2]!) };
}

function partitionName(fromMs: number): string {
  // job_transitions_p20261130_174500: readable, sortable, unique per start second.
  const iso = new Date(fromMs).toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  return `job_transitions_p${iso}`;
}

export class JobRetention {
  readonly window: RetentionWindow;
  private readonly batchSize: number;
  private readonly batchPauseMs: number;
  private readonly spanMs: number;
  private readonly ahead: number;
  private readonly maxSurvivors: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly o: JobRetentionOptions,
  ) {
    this.window = o.window;
    this.batchSize = o.batchSize ?? 500;
    this.batchPauseMs = o.batchPauseMs ?? 50;
    this.spanMs = (o.partitionSeconds ?? 86_400) * 1000;
    this.ahead = o.partitionsAhead ?? 3;
    this.maxSurvivors = o.maxSurvivors ?? 50_000;
  }

  /**
   * Deletes every final job past retention, batch by batch, calling `onDeleted` with each
   * batch's ids (the caller drops their cache entries). `shouldStop` is checked between
   * batches. Returns how many jobs went.
   */
  async deleteExpired(onDeleted?: (ids: string[], state: FinalState) => Promise<void>, shouldStop: () => boolean = () => false): Promise<number> {
    let total = 0;
    const states: Array<[FinalState, number]> = [
      ["COMPLETED", this.window.completed],
      ["FAILED", this.window.failed],
      ["CANCELLED", this.window.cancelled],
    ];
    for (const [state, seconds] of states) {
      if (seconds <= 0) continue; // 0 = keep forever
      for (;;) {
        if (shouldStop()) return total;
        const { rows } = await this.pool.query<{ id: string }>({
          name: "jobstack_retention_delete",
          text: q.deleteExpiredJobs,
          values: [state, seconds, this.batchSize],
        });
        total += rows.length;
        if (rows.length > 0) await onDeleted?.(rows.map((r) => r.id), state);
        if (rows.length < this.batchSize) break;
        await sleep(this.batchPauseMs);
      }
    }
    return total;
  }

  /** The range partitions of job_transitions, oldest first. */
  async partitions(client: pg.Pool | pg.PoolClient = this.pool): Promise<PartitionInfo[]> {
    const { rows } = await client.query<{ name: string; bound: string }>(q.listPartitions);
    return rows
      .map((r) => parsePartitionBound(r.name, r.bound))
      .filter((p): p is PartitionInfo => p !== null)
      .sort((a, b) => a.toMs - b.toMs);
  }

  /**
   * Creates partitions ahead and drops expired ones, in one worker at a time (others skip the
   * turn). Returns what was created and dropped.
   */
  async maintainPartitions(now = Date.now()): Promise<{ created: string[]; dropped: DropResult }> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      const { rows } = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1::bigint) as ok", [PARTITION_LOCK_KEY]);
      if (!rows[0]?.ok) return { created: [], dropped: { dropped: [], survivorsMoved: 0 } };
      try {
        const created = await this.createAhead(client, now);
        const dropped = await this.dropExpired(client, now);
        return { created, dropped };
      } finally {
        await client.query("select pg_advisory_unlock($1::bigint)", [PARTITION_LOCK_KEY]).catch(() => {
          broken = true;
        });
      }
    } catch (err) {
      broken = true;
      throw coerceError(err);
    } finally {
      client.release(broken);
    }
  }

  private async createAhead(client: pg.PoolClient, now: number): Promise<string[]> {
    const existing = await this.partitions(client);
    const lastTo = existing.at(-1)?.toMs ?? 0;
    const current = Math.floor(now / this.spanMs) * this.spanMs;
    const until = current + this.ahead * this.spanMs;
    const created: string[] = [];
    let from = Math.max(lastTo, current);
    // The span under way is not covered (first start, or every worker was down longer than the
    // spans ahead): its rows so far are in the default partition, and Postgres would refuse the
    // range. Leave that span to the default partition and start at the next one.
    if (from < now) {
      const to = Math.floor(from / this.spanMs) * this.spanMs + this.spanMs;
      const { rows } = await client.query<{ has_rows: boolean }>(q.defaultHasRowsInRange, [uuidv7Floor(from), uuidv7Floor(to)]);
      if (rows[0]?.has_rows) from = to;
    }
    while (from < until) {
      const to = Math.floor(from / this.spanMs) * this.spanMs + this.spanMs;
      const name = partitionName(from);
      try {
        await client.query("set lock_timeout = '2s'");
        await client.query(
          `create table ${name} partition of job_transitions for values from ('${uuidv7Floor(from)}') to ('${uuidv7Floor(to)}')`,
        );
        created.push(name);
      } catch (err) {
        this.o.onError?.(new Error(`could not create audit partition ${name}: ${coerceError(err).message}`));
      } finally {
        await client.query("reset lock_timeout");
      }
      from = to;
    }
    return created;
  }

  /**
   * Drops every range partition whose span ended longer ago than the completed and cancelled
   * retention (the bulk of jobs); never when either is 0 (kept forever).
   */
  private async dropExpired(client: pg.PoolClient, now: number): Promise<DropResult> {
    const { completed, cancelled } = this.window;
    if (completed <= 0 || cancelled <= 0) return { dropped: [], survivorsMoved: 0 };
    const horizon = now - Math.max(completed, cancelled) * 1000;
    const dropped: string[] = [];
    let survivorsMoved = 0;
    for (const p of await this.partitions(client)) {
      if (p.toMs > horizon) break;
      const from = p.fromMs === null ? "00000000-0000-0000-0000-000000000000" : uuidv7Floor(p.fromMs);
      const to = uuidv7Floor(p.toMs);
      const moved = await this.dropOne(client, p.name, from, to);
      if (moved === null) break; // too many survivors, or the lock was not free: next pass
      dropped.push(p.name);
      survivorsMoved += moved;
    }
    return { dropped, survivorsMoved };
  }

  /**
   * One partition: under an exclusive lock of job_transitions (held for milliseconds; the
   * lock_timeout keeps the hot path from queueing behind us for long), copy the audit rows of
   * jobs that still exist, drop the partition, and insert the copies, which now land in the
   * default partition. Returns how many rows moved, or null when it did nothing.
   */
  private async dropOne(client: pg.PoolClient, name: string, from: string, to: string): Promise<number | null> {
    const survivors = await client.query(q.jobsInRange, [from, to, this.maxSurvivors + 1]);
    if (survivors.rows.length > this.maxSurvivors) {
      this.o.onError?.(new Error(`audit partition ${name} still has more than ${this.maxSurvivors} live jobs; dropping it later`));
      return null;
    }
    await client.query("begin");
    try {
      await client.query("set local lock_timeout = '2s'");
      await client.query("lock table job_transitions in access exclusive mode");
      // CREATE TABLE AS takes no parameters; both bounds are uuidv7Floor output, never input.
      await client.query(
        `create temp table survivors on commit drop as
         select t.seq, t.job_id, t.from_state, t.to_state, t.at, t.worker_id, t.attempt, t.claim, t.reason
         from ${name} t where t.job_id in (select id from jobs where id >= '${from}'::uuid and id < '${to}'::uuid)`,
      );
      await client.query(`drop table ${name}`);
      const moved = await client.query("insert into job_transitions select * from survivors");
      await client.query("commit");
      return moved.rowCount ?? 0;
    } catch (err) {
      await client.query("rollback").catch(() => undefined);
      this.o.onError?.(new Error(`could not drop audit partition ${name}: ${coerceError(err).message}`));
      return null;
    }
  }
}

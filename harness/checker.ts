/**
 * A total-queue checker in the spirit of Jepsen's `total-queue`: compares what clients were told
 * (the `History` of submissions) with what the system recorded (Postgres: `jobs`,
 * `job_transitions`, and `handler_runs` written by the record handler) once the run is over.
 *
 * - lost:        a submission answered 2xx whose job is missing, or not in a final state
 *                (COMPLETED, FAILED, CANCELLED) when the checker runs, or whose final state is
 *                not the one its audit log ends in.
 * - duplicated:  a job with more than one transition into a final state (two `→ COMPLETED`), or
 *                a handler run that nothing justifies: two runs under one claim, a run under a
 *                claim the audit log never granted, or a run under claim k after an earlier run
 *                whose claim did not end in a lease expiry, a release by a stopping worker or a
 *                retryable failure (the only ways the system may run a handler again).
 * - unexpected:  a job in Postgres that no client ever tried to submit (no submission carried its
 *                idempotencyKey), or one whose submission the api refused with a 4xx/5xx answer
 *                (a refusal must mean "not stored").
 * - recovered:   jobs whose submission timed out or was dropped (indeterminate) and which were
 *                stored anyway: allowed, reported for information.
 *
 * Every submission carries a unique idempotencyKey, which is how a job row is matched to the
 * request that created it even when the client never saw the answer.
 */
import type pg from "pg";

export interface Submission {
  readonly key: string;
  readonly startedAt: number;
  endedAt: number;
  /** ok: 2xx with the job; fail: a definite refusal (4xx/5xx); info: timed out or dropped. */
  outcome: "ok" | "fail" | "info";
  status: number | null;
  id: string | null;
}

export interface History {
  readonly submissions: Submission[];
}

export interface CheckReport {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly refused: number;
  readonly indeterminate: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  readonly recovered: number;
  /** Handler executions in total, and those beyond the first of their job. */
  readonly runs: number;
  readonly reruns: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Up to 20 explanations, one per problem found. */
  readonly problems: readonly string[];
}

const FINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
/** Audit reasons of a RUNNING → PENDING move after which a handler may legitimately run again. */
const RERUN_JUSTIFIED = /lease expired|released by a stopping worker|retry in \d+ ms/;

interface JobRow {
  id: string;
  idempotency_key: string | null;
  state: string;
}
interface TransitionRow {
  job_id: string;
  from_state: string | null;
  to_state: string;
  claim: string;
  reason: string | null;
}
interface RunRow {
  job_id: string;
  claim: string;
}

/** Polls until every job in the database is final and every acknowledged id is there. */
export async function waitForFinal(pool: pg.Pool, acknowledged: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { rows } = await pool.query<{ open: number; present: number }>(
        `select (select count(*)::integer from jobs where state not in ('COMPLETED', 'FAILED', 'CANCELLED')) as open,
                (select count(*)::integer from jobs where id = any($1::uuid[])) as present`,
        [acknowledged],
      );
      if (rows[0]!.open === 0 && rows[0]!.present === acknowledged.length) return true;
    } catch {
      /* the database may be coming back: poll again */
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function checkHistory(pool: pg.Pool, history: History): Promise<CheckReport> {
  const [jobs, transitions, runs] = await Promise.all([
    pool.query<JobRow>("select id, idempotency_key, state from jobs"),
    pool.query<TransitionRow>("select job_id, from_state, to_state, claim::text, reason from job_transitions order by seq"),
    pool.query<RunRow>("select job_id, claim::text from handler_runs order by id"),
  ]);
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };

  const byKey = new Map(history.submissions.map((s) => [s.key, s]));
  const jobById = new Map(jobs.rows.map((j) => [j.id, j]));
  const logOf = new Map<string, TransitionRow[]>();
  for (const t of transitions.rows) {
    const list = logOf.get(t.job_id) ?? [];
    list.push(t);
    logOf.set(t.job_id, list);
  }
  const runsOf = new Map<string, number[]>();
  for (const r of runs.rows) {
    const list = runsOf.get(r.job_id) ?? [];
    list.push(Number(r.claim));
    runsOf.set(r.job_id, list);
  }

  // Lost: acknowledged but missing, unfinished, or a state the audit log does not end in.
  let lost = 0;
  const acknowledged = history.submissions.filter((s) => s.outcome === "ok");
  for (const s of acknowledged) {
    const job = jobById.get(s.id!);
    const log = logOf.get(s.id!) ?? [];
    if (!job) {
      lost++;
      note(`lost: ${s.id} (key ${s.key}) was acknowledged with ${s.status} but is not in Postgres`);
    } else if (!FINAL.has(job.state)) {
      lost++;
      note(`lost: ${s.id} is still ${job.state}`);
    } else if (log.at(-1)?.to_state !== job.state) {
      lost++;
      note(`lost: ${s.id} is ${job.state} but its audit log ends in ${log.at(-1)?.to_state ?? "nothing"}`);
    }
  }

  // Duplicated: two final transitions, or a handler run nothing justifies.
  let duplicated = 0;
  let reruns = 0;
  for (const job of jobs.rows) {
    const log = logOf.get(job.id) ?? [];
    const finals = log.filter((t) => FINAL.has(t.to_state));
    let dup = finals.length > 1;
    if (dup) note(`duplicated: ${job.id} has ${finals.length} final transitions (${finals.map((t) => t.to_state).join(", ")})`);
    const claims = runsOf.get(job.id) ?? [];
    reruns += Math.max(0, claims.length - 1);
    const granted = new Set(log.filter((t) => t.to_state === "RUNNING").map((t) => Number(t.claim)));
    const seen = new Set<number>();
    let previous: number | null = null;
    for (const claim of claims) {
      if (seen.has(claim)) {
        dup = true;
        note(`duplicated: ${job.id} ran twice under claim ${claim}`);
      } else if (!granted.has(claim)) {
        dup = true;
        note(`duplicated: ${job.id} ran under claim ${claim}, which the audit log never granted`);
      } else if (previous !== null) {
        const ended = log.find((t) => t.from_state === "RUNNING" && Number(t.claim) === previous);
        if (!ended || ended.to_state !== "PENDING" || !RERUN_JUSTIFIED.test(ended.reason ?? "")) {
          dup = true;
          note(`duplicated: ${job.id} ran under claim ${claim} after claim ${previous} ended ${ended ? `${ended.to_state} (${ended.reason})` : "without a transition"}`);
        }
      }
      seen.add(claim);
      previous = claim;
    }
    if (dup) duplicated++;
  }

  // Unexpected: stored although nobody asked, or although the api said no.
  let unexpected = 0;
  let recovered = 0;
  for (const job of jobs.rows) {
    const s = job.idempotency_key === null ? undefined : byKey.get(job.idempotency_key);
    if (!s) {
      unexpected++;
      note(`unexpected: ${job.id} (key ${job.idempotency_key}) was never submitted`);
    } else if (s.outcome === "fail") {
      unexpected++;
      note(`unexpected: ${job.id} was stored although its submission was answered ${s.status}`);
    } else if (s.outcome === "info") {
      recovered++;
    } else if (s.id !== job.id) {
      unexpected++;
      note(`unexpected: key ${s.key} was acknowledged as ${s.id} but stored as ${job.id}`);
    }
  }

  const byState: Record<string, number> = {};
  for (const j of jobs.rows) byState[j.state] = (byState[j.state] ?? 0) + 1;
  return {
    attempted: history.submissions.length,
    acknowledged: acknowledged.length,
    refused: history.submissions.filter((s) => s.outcome === "fail").length,
    indeterminate: history.submissions.filter((s) => s.outcome === "info").length,
    lost,
    duplicated,
    unexpected,
    recovered,
    runs: runs.rows.length,
    reruns,
    byState,
    problems,
  };
}

/** One line per scenario, the same shape everywhere, for the log and the closing note. */
export function reportLine(scenario: string, r: CheckReport & { recoverMs?: number }, extra: Record<string, unknown> = {}): string {
  const fields = {
    acknowledged: r.acknowledged,
    lost: r.lost,
    duplicated: r.duplicated,
    unexpected: r.unexpected,
    recovered: r.recovered,
    refused: r.refused,
    indeterminate: r.indeterminate,
    reruns: r.reruns,
    ...(r.recoverMs !== undefined ? { recover_s: (r.recoverMs / 1000).toFixed(1) } : {}),
    ...extra,
  };
  const line = `[chaos] ${scenario}: ${Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`).join(" ")}`;
  console.log(line);
  return line;
}

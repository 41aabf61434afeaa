// Reads of one job: the row, and its audit log.

import { firstRow, type Operation } from "../operation.js";
import { JOB_COLUMNS, rowToJob, rowToTransition, type TransitionRow } from "../rows.js";
import type { Job, Transition } from "../types.js";

/** $1 id → the job, no lock; null when it does not exist. */
export const getJob: Operation<string, Job | null> = {
  name: "jobstack_get",
  text: `
select ${JOB_COLUMNS} from jobs where id = $1::uuid`,
  values: (id) => [id],
  result: firstRow(rowToJob),
};

/**
 * $1 job id → its audit log, oldest first; none when the job does not exist (a job deleted by
 * retention leaves its audit rows until their partition is dropped: they are not shown).
 */
export const listTransitions: Operation<string, Transition[]> = {
  text: `
select * from job_transitions
where job_id = $1::uuid and exists (select 1 from jobs where id = $1::uuid)
order by seq`,
  values: (id) => [id],
  result: (r) => (r.rows as TransitionRow[]).map(rowToTransition),
};

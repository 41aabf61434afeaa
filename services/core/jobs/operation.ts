// The shape every job operation has (operations/*.ts): its SQL, its prepared-statement name,
// how its input becomes the statement's parameters, and how the result becomes its answer, in
// one definition. The repository (repository.ts) only chooses which operation to run, batches,
// and notifies; it writes no SQL and maps no rows.

import type pg from "pg";

/** A pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export interface Operation<In, Out> {
  /**
   * Prepared-statement name: Postgres parses and plans the statement once per connection.
   * Absent for statements that read `*` (a prepared `select *` breaks when a migration adds a
   * column under a running process) or run too rarely to matter.
   */
  readonly name?: string;
  readonly text: string;
  readonly values: (input: In) => unknown[];
  /** The answer, from the statement's result and the input (batched forms map rows back to their items). */
  readonly result: (r: pg.QueryResult, input: In) => Out;
}

/** Runs one operation: one statement, one round trip. */
export async function run<In, Out>(db: Queryable, op: Operation<In, Out>, input: In): Promise<Out> {
  const r = await db.query(op.name === undefined ? { text: op.text, values: op.values(input) } : { name: op.name, text: op.text, values: op.values(input) });
  return op.result(r, input);
}

/** The first row mapped, or null when there is none. */
export const firstRow =
  <R, T>(map: (row: R) => T) =>
  (r: pg.QueryResult): T | null =>
    r.rows[0] === undefined ? null : map(r.rows[0] as R);

/** Whether the statement changed at least one row. */
export const changedAny = (r: pg.QueryResult): boolean => (r.rowCount ?? 0) > 0;

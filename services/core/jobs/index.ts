// The job store. What lives here:
//   types.ts        the public shapes (Job, Transition, outcomes) the api and the worker use
//   rows.ts         the column list, row types and their mapping to those shapes
//   operation.ts    the shape of one operation: SQL, statement name, parameters, row mapping
//   operations/     every operation on jobs, one definition each (submit, move, fail, dispatch,
//                   lease, read); the SQL of docs/services-contract.md comes from here
//   repository.ts   JobRepository, the thin front: picks the operation, batches, notifies
//   search.ts       keyset search and counts; retention*.ts the deletion of finished jobs
// It may import services/core's states, db, errors, batch and uuid modules; nothing here imports the api
// or the worker.
export * from "./types.js";
export { JobRepository, rowToJob, errorToJson, type JobRepositoryOptions } from "./repository.js";
export type { JobFilter, Keyset } from "./search.js";

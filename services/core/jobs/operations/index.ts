// Every operation on jobs, one definition each (services/core/jobs/operation.ts): its SQL, its
// prepared-statement name, its parameters and its row mapping together.
export * from "./submit.js";
export * from "./move.js";
export * from "./fail.js";
export * from "./dispatch.js";
export * from "./lease.js";
export * from "./read.js";

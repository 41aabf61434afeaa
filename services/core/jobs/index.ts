export * from "./types.js";
export { JobRepository, rowToJob, errorToJson, type JobRepositoryOptions } from "./repository.js";
export type { JobFilter, Keyset } from "./search.js";

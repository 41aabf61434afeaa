// services/core: everything the api and the worker share. See docs/services-contract.md.
export * from "./states.js";
export * from "./errors.js";
export * from "./config.js";
export * from "./uuid.js";
export { createPool, RollbackFailedError, withTransaction, type PoolOptions } from "./db.js";
export * from "./jobs/index.js";
export * from "./cache.js";
export * from "./queue.js";
export * from "./metrics.js";
export * from "./dispatch.js";
export { Batcher, type BatcherOptions } from "./batch.js";
export * from "./dependencies.js";
export * from "./readiness.js";
export { createLogger, type Logger } from "./logger.js";

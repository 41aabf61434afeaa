// The handler registry moved to services/handlers/ (shared by the api and the worker; public as
// `jobstack/worker`). This file keeps the old import path working.
export * from "../handlers/index.js";

// The public handler API, `import { defineHandler, HandlerError, z } from "jobstack/worker"`
// (package.json "exports"). Everything a handler module needs, and the registry the api and the
// worker build from the same modules. README "Write your own job type" shows it in use.

export { z } from "zod";
export { defineHandler, isHandlerDefinition, type HandlerDefinition, type HandlerDefinitionInput, type PayloadSchema } from "./define.js";
export {
  HandlerError,
  HandlerRegistry,
  invalidPayloadMessage,
  JOB_TYPE_PATTERN,
  silentLogger,
  type HandlerContext,
  type HandlerLogger,
  type HandlerOrigin,
  type JobHandler,
  type PayloadCheck,
  type PayloadIssue,
} from "./registry.js";
export { createHandlerRegistry, registerBuiltins } from "./builtins.js";
export { HandlerModuleError, loadHandlerModules, type HandlerModuleContext } from "./load.js";

export { ConfigError, formatIssue, isConfigError, type ConfigIssue } from "../../config-files/errors.js";
export { CLI_FLAGS, commandSelection, ENVIRONMENTS_DIR, listEnvironments, loadEnvironment, loadEnvironments, selectionFromEnv, type Selection } from "./load.js";
export { resolveEnvironmentFile, resolveEnvironmentSource, type ResolvedEnvironment, type PresetSelection } from "./resolve.js";
export { serviceEnvironment, API_PORT, WORKER_HEALTH_PORT, JOB_QUEUE, type ServiceEnvRole } from "./service-env.js";
export type { Environment, AppImage, DockerTarget, KubernetesTarget, Backend } from "./schema.js";

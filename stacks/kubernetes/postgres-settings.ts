/**
 * Postgres settings on Kubernetes live in a ConfigMap, so `kubectl get configmap
 * postgres-settings` shows what the preset derived. Postgres still takes them as `-c
 * name=value` arguments, exactly as on Docker, because a settings file would conflict with the
 * official image's first-run setup (it writes postgresql.conf into the data volume): each value
 * reaches the command line through an environment variable that Kubernetes expands in `args`,
 * `-c shared_buffers=$(PG_SETTING_shared_buffers)`, fed by `envFrom` the ConfigMap. The
 * ConfigMap's checksum annotation rolls the pod when a setting changes.
 */
import { createHash } from "node:crypto";

export const POSTGRES_SETTINGS_CONFIG_MAP = "postgres-settings";
export const SETTING_ENV_PREFIX = "PG_SETTING_";

export interface ExternalizedSettings {
  /** The command with every `-c name=value` turned into `-c name=$(PG_SETTING_name)`. */
  readonly args: string[];
  /** name → value, the ConfigMap's data. */
  readonly settings: Record<string, string>;
  /** Changes whenever a setting does; a pod annotation. */
  readonly checksum: string;
}

export function externalizeSettings(command: readonly string[]): ExternalizedSettings {
  const args: string[] = [];
  const settings: Record<string, string> = {};
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    const pair = command[i + 1];
    const eq = pair?.indexOf("=") ?? -1;
    if (arg === "-c" && pair !== undefined && eq > 0) {
      const name = pair.slice(0, eq);
      settings[name] = pair.slice(eq + 1);
      args.push("-c", `${name}=$(${SETTING_ENV_PREFIX}${name})`);
      i++;
    } else {
      args.push(arg);
    }
  }
  const checksum = createHash("sha256").update(JSON.stringify(settings)).digest("hex");
  return { args, settings, checksum };
}

/**
 * `jobstack explain`: the resolved configuration of one environment as a table of every value,
 * where it came from (preset file, the environment's overrides, or a formula) and, for derived
 * values, the formula's inputs. The JVM flags are shown even for a Node worker, so a team can
 * see what switching runtimes would do.
 *
 * A data service declared external (`external.*`) is not deployed, so the preset's server
 * tuning for it (memory, PGTune settings, maxmemory, watermark, …) configures nothing: those rows
 * say so. The client-side settings stay in force (pool sizes, the connection reserve), and the
 * connection budget is checked against the declared `external.postgres.maxConnections`.
 */
import { leafPaths } from "../../stacks/config/merge.js";
import { commandSelection, loadEnvironments, serviceEnvironment, type ResolvedEnvironment } from "../../stacks/config/index.js";
import { describeSizing } from "../../presets/storage-sizing.js";
import { renderFittedTable, renderTable } from "../table.js";
import { externalServices } from "../../stacks/topology.js";

export interface ExplainRow {
  readonly key: string;
  readonly value: string;
  readonly source: string;
}

function get(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

export function explainRows(env: ResolvedEnvironment): ExplainRow[] {
  const { preset, derived, presetSelection: sel, environment: e } = env;
  const forced = sel.selectedBy !== "environment";
  const presetSource = forced ? `${sel.file} (${sel.selectedBy})` : sel.file;
  const rows: ExplainRow[] = [
    { key: "environment", value: env.name, source: env.file },
    { key: "target", value: e.target, source: env.file },
    { key: "tier", value: `${e.tier}${env.prodLike ? " (prod-like)" : ""}`, source: env.file },
    { key: "preset", value: sel.name, source: forced ? sel.selectedBy : env.file },
    { key: "worker.runtime", value: e.worker.runtime, source: env.file },
    {
      key: "handlers",
      value: env.handlers.modules.join(" ") || "(none: builtins only)",
      source: env.handlers.from === "environment" ? `${env.file} handlers` : "every module in handlers/ (the environment file has no handlers:)",
    },
    {
      key: "rabbitmq.replicas",
      value: e.external.rabbitmq ? "(external)" : String(e.rabbitmq.replicas),
      source: e.rabbitmq.replicas > 1 ? `${env.file} (a cluster; quorum queues on every node)` : env.file,
    },
    ...externalServices(env).map((x) => ({ key: `external.${x.name}`, value: x.summary, source: `${env.file} (not deployed${x.cidr ? `; egress to ${x.cidr}` : "; egress to any address on its port"})` })),
  ];
  const skip = new Set(["description", "rationale"]);
  for (const path of leafPaths(preset)) {
    if (skip.has(path)) continue;
    const value = get(preset, path);
    const overridden = sel.overridden.includes(path);
    rows.push({
      key: path,
      value: Array.isArray(value) ? value.join(" ") || "(none)" : String(value),
      source: overridden ? `${env.file} overrides.${path}` : presetSource,
    });
  }

  const p = preset;
  rows.push(
    {
      key: "derived: api NODE_OPTIONS",
      value: derived.api.node.nodeOptions,
      source: `node formula: api.memoryMiB ${p.api.memoryMiB} × api.heapPercent ${p.api.heapPercent}%`,
    },
    {
      key: "derived: worker NODE_OPTIONS",
      value: derived.worker.node.nodeOptions,
      source: `node formula: worker.memoryMiB ${p.worker.memoryMiB} × worker.heapPercent ${p.worker.heapPercent}%`,
    },
    {
      key: "derived: worker JAVA_TOOL_OPTIONS",
      value: derived.worker.jvm.javaToolOptions,
      source: `jvm formula: worker.jvm (${p.worker.jvm.gc})${e.worker.runtime === "jvm" ? "" : " — not used: worker.runtime is node"}`,
    },
    {
      key: "derived: worker max heap MiB",
      value: String(derived.worker.jvm.maxHeapMiB),
      source: `jvm formula: worker.memoryMiB ${p.worker.memoryMiB} × maxRamPercentage ${p.worker.jvm.maxRamPercentage}%`,
    },
    {
      key: "derived: redis maxmemory",
      value: `${derived.redis.maxmemoryBytes} bytes`,
      source: `redis formula: redis.memoryMiB ${p.redis.memoryMiB} × maxmemoryPercent ${p.redis.maxmemoryPercent}%`,
    },
    { key: "derived: redis args", value: derived.redis.args.map((a) => (a === "" ? '""' : a)).join(" "), source: "redis formula" },
    {
      key: "derived: rabbitmq watermark",
      value: `${derived.rabbitmq.watermarkBytes} bytes`,
      source: `rabbitmq formula: rabbitmq.memoryMiB ${p.rabbitmq.memoryMiB} × watermarkPercent ${p.rabbitmq.watermarkPercent}%`,
    },
  );
  for (const [key, value] of Object.entries(derived.postgres.settings)) {
    rows.push({
      key: `derived: postgres ${key}`,
      value,
      source: `PGTune: ${p.postgres.workload}, ${p.postgres.memoryMiB} MiB, ${p.postgres.cpu} CPU, ${p.postgres.storage}`,
    });
  }
  rows.push(
    { key: "derived: postgres shm_size MiB", value: String(derived.postgres.shmSizeMiB), source: "postgres formula" },
    {
      key: "derived: postgres connections needed",
      value: String(derived.connections.total),
      source: `api ${derived.connections.apiReplicas}×${derived.connections.apiPool} + worker ${derived.connections.workerReplicas}×${derived.connections.workerPool} + reserve ${derived.connections.reserve}`,
    },
  );
  const storage = derived.storage;
  if (storage) {
    rows.push({
      key: "derived: postgres storage",
      value: describeSizing(storage),
      source:
        `storage formula (docs/storage.md): postgres.storageGiB ${p.postgres.storageGiB}, ${storage.bytesPerJob} bytes/job, ` +
        `retention ${p.retention.completed}/${p.retention.failed}/${p.retention.cancelled}, max_wal_size ${derived.postgres.settings.max_wal_size}`,
    });
  }
  for (const role of ["api", "worker"] as const) {
    for (const [key, value] of Object.entries(serviceEnvironment(env, role))) {
      rows.push({ key: `env: ${role} ${key}`, value, source: "stacks/config/service-env.ts" });
    }
  }
  return markExternal(env, rows);
}

/** Client-side settings that stay in force when the service is external. */
const CLIENT_SIDE = new Set(["postgres.connectionReserve", "derived: postgres connections needed"]);

/** Marks the server tuning of external services as not applicable, and checks the budget against the declared limit. */
function markExternal(env: ResolvedEnvironment, rows: ExplainRow[]): ExplainRow[] {
  const ext = env.environment.external;
  return rows.map((row) => {
    if (row.key === "derived: postgres connections needed" && ext.postgres) {
      return { ...row, source: `${row.source} ≤ external.postgres.maxConnections ${ext.postgres.maxConnections}` };
    }
    const service = (["postgres", "redis", "rabbitmq"] as const).find((svc) => row.key.startsWith(`${svc}.`) || row.key.startsWith(`derived: ${svc} `));
    if (!service || !ext[service] || CLIENT_SIDE.has(row.key)) return row;
    return { ...row, source: `not applicable: ${service} is external (external.${service}), its server is not ours to tune` };
  });
}

/** What `explain` fits its table to unless `--wide`: a common terminal width. */
export const EXPLAIN_WIDTH = 100;

export function explainCommand(opts: { env: string; preset?: string; json: boolean; wide?: boolean }): string {
  const [env] = loadEnvironments(commandSelection({ env: opts.env, preset: opts.preset }));
  if (!env) throw new Error(`no environment "${opts.env}"`);
  const rows = explainRows(env);
  if (opts.json) {
    return JSON.stringify(
      {
        environment: env.name,
        target: env.environment.target,
        preset: env.presetSelection,
        handlers: env.handlers,
        values: env.preset,
        derived: env.derived,
        env: { api: serviceEnvironment(env, "api"), worker: serviceEnvironment(env, "worker") },
        rabbitmqReplicas: env.environment.rabbitmq.replicas,
        external: externalServices(env),
        rows,
      },
      null,
      2,
    );
  }
  const cells = rows.map((r) => [r.key, r.value, r.source]);
  return opts.wide ? renderTable(["setting", "value", "from"], cells) : renderFittedTable(["setting", "value", "from"], cells, EXPLAIN_WIDTH);
}

/** `jobstack presets`: every shipped preset with the workload it is for. */
import { listPresets, loadPreset } from "../../presets/index.js";
import { renderTable } from "../table.js";

export function presetsCommand(opts: { json: boolean }): string {
  const presets = listPresets().map((name) => {
    const p = loadPreset(name);
    return {
      name,
      description: p.description,
      api: `${p.api.replicas}× ${p.api.cpu} CPU ${p.api.memoryMiB} MiB`,
      worker: `${p.worker.replicas}× ${p.worker.cpu} CPU ${p.worker.memoryMiB} MiB, concurrency ${p.worker.concurrency}`,
      gc: p.worker.jvm.gc,
    };
  });
  if (opts.json) return JSON.stringify(presets, null, 2);
  return renderTable(
    ["preset", "api", "worker", "jvm gc", "for"],
    presets.map((p) => [p.name, p.api, p.worker, p.gc, p.description]),
  );
}

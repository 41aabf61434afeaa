/** `jobstack presets`: every shipped preset with the workload it is for. */
import { listPresets, loadPreset } from "../../presets/index.js";
import { renderTable } from "../table.js";

export function presetsCommand(opts: { json: boolean }): string {
  const presets = listPresets().map((name) => {
    const p = loadPreset(name);
    // Numbers for scripts, with the unit in the field name; the table formats them for people.
    return {
      name,
      description: p.description,
      api: { replicas: p.api.replicas, cpu: p.api.cpu, memoryMiB: p.api.memoryMiB },
      worker: { replicas: p.worker.replicas, cpu: p.worker.cpu, memoryMiB: p.worker.memoryMiB, concurrency: p.worker.concurrency },
      gc: p.worker.jvm.gc,
    };
  });
  if (opts.json) return JSON.stringify(presets, null, 2);
  return renderTable(
    ["preset", "api", "worker", "jvm gc", "for"],
    presets.map((p) => [
      p.name,
      `${p.api.replicas}× ${p.api.cpu} CPU ${p.api.memoryMiB} MiB`,
      `${p.worker.replicas}× ${p.worker.cpu} CPU ${p.worker.memoryMiB} MiB, concurrency ${p.worker.concurrency}`,
      p.gc,
      p.description,
    ]),
  );
}

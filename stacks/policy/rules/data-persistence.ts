/**
 * The data services keep their data where a replaced container does not take it along.
 *
 * Docker: each data container or Swarm service mounts a named volume (not an anonymous one);
 * when the volume is a `docker_volume` in the stack, it has `lifecycle.prevent_destroy`, so a
 * `terraform destroy` or an accidental rename cannot delete the data.
 * Kubernetes: each data service is a StatefulSet whose container mounts one of its
 * `volume_claim_template`s, so every replica keeps its own PVC across reschedules.
 */
import { block, DATA_ROLES, isTrue, referencedResource, type Workload, workloads } from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

export const dataPersistence: Rule = {
  id: "data-persistence",
  rationale: "Data in a container's writable layer or an anonymous volume disappears when the container is replaced.",
  fix: "mount a named docker_volume with lifecycle.prevent_destroy (Docker), or run the service as a StatefulSet with a volume_claim_template (Kubernetes)",
  check(stack) {
    const out: Violation[] = [];
    const data = workloads(stack).filter((w: Workload) => w.role !== undefined && DATA_ROLES.includes(w.role) && !w.task);
    for (const w of data) {
      if (w.target === "docker") {
        const named = w.mounts.filter((m) => m.kind === "volume" && m.source !== "");
        if (named.length === 0) {
          out.push(violation(this, stack.name, w.where, `${w.role} keeps its data on no named volume`));
          continue;
        }
        for (const m of named) {
          const vol = referencedResource(stack, m.source, "docker_volume");
          if (vol && !isTrue(block(vol.body.lifecycle)?.prevent_destroy)) {
            out.push(violation(this, stack.name, vol.address, `volume of ${w.role} (${m.target}) has no lifecycle.prevent_destroy`, "set `lifecycle: { preventDestroy: true }` on the docker_volume"));
          }
        }
        continue;
      }
      if (w.kind !== "stateful_set") {
        out.push(violation(this, stack.name, w.where, `${w.role} runs as a ${w.kind}, not a StatefulSet with a volume_claim_template`));
        continue;
      }
      if (!w.mounts.some((m) => m.kind === "claim-template")) {
        out.push(violation(this, stack.name, w.where, `${w.role} mounts none of its StatefulSet's volume_claim_templates`));
      }
    }
    return out;
  },
};

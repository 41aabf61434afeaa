/** Every container has a memory limit and a CPU limit. */
import { roleName, workloads } from "../model.js";
import type { Rule } from "../types.js";
import { violation } from "../violation.js";

export const resourceLimits: Rule = {
  id: "resource-limits",
  rationale: "One container without limits can starve every other on the host or node, and the tuned heaps and caches assume the limit exists.",
  fix: "set the preset's memory and CPU: Docker `memory` and `cpus` (Swarm `resources.limits`), Kubernetes `resources.limits.memory` and `.cpu`",
  check(stack) {
    return workloads(stack).flatMap((w) => {
      const missing = [...(w.memoryLimitBytes === undefined ? ["memory"] : []), ...(w.cpuLimit === undefined ? ["CPU"] : [])];
      return missing.length > 0 ? [violation(this, stack.name, w.where, `${roleName(w)} has no ${missing.join(" and no ")} limit`)] : [];
    });
  },
};

/** Every long-running container has a health check (Docker) or liveness and readiness probes (Kubernetes). */
import { roleName, workloads } from "../model.js";
import type { Rule } from "../types.js";
import { violation } from "../violation.js";

export const healthCheck: Rule = {
  id: "health-check",
  rationale: "Without a health check a hung process keeps its place: Docker never restarts it and Kubernetes keeps sending it traffic.",
  fix: "render the topology's health check: Docker `healthcheck { test = [...] }`, Kubernetes `liveness_probe` and `readiness_probe`",
  check(stack) {
    return workloads(stack)
      .filter((w) => !w.task)
      .flatMap((w) => {
        if (w.target === "docker") {
          if (!w.liveness) return [violation(this, stack.name, w.resource.address, `${roleName(w)} has no healthcheck`)];
          if (w.liveness.kind === "none") return [violation(this, stack.name, w.resource.address, `${roleName(w)} disables its healthcheck (test = ["NONE"])`)];
          return [];
        }
        const missing = [
          ...(!w.liveness || w.liveness.kind === "none" ? ["liveness_probe"] : []),
          ...(!w.readiness || w.readiness.kind === "none" ? ["readiness_probe"] : []),
        ];
        return missing.length > 0 ? [violation(this, stack.name, w.where, `${roleName(w)} has no ${missing.join(" and no ")}`)] : [];
      });
  },
};

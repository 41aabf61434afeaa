/**
 * The api and worker are probed on their health endpoints: `/healthz` (alive; touches no
 * dependency) or `/readyz` (ready), never `/`, which is a real route and says nothing about health.
 */
import { APP_ROLES, workloads, type ProbeView } from "../model.js";
import type { Rule } from "../types.js";
import { violation } from "../violation.js";

const HEALTH_PATH = /\/(healthz|readyz)(?![A-Za-z0-9_-])/;
const ROOT_URL = /https?:\/\/[^/\s'"]+\/?(?=["'\s]|$)/;

function problem(probe: ProbeView | undefined, which: string): string | undefined {
  if (!probe || probe.kind === "none") return undefined; // health-check reports absent probes
  if (probe.kind === "http") {
    return probe.path === "/healthz" || probe.path === "/readyz" ? undefined : `${which} requests ${probe.path}`;
  }
  if (ROOT_URL.test(probe.text)) return `${which} requests / (${probe.text})`;
  if (!HEALTH_PATH.test(probe.text)) return `${which} does not target /healthz or /readyz (${probe.text})`;
  return undefined;
}

export const healthEndpoint: Rule = {
  id: "health-endpoint",
  rationale: "Probing / tests a page, not health; /healthz and /readyz are the endpoints built to answer cheaply and truthfully.",
  fix: "probe GET /healthz for liveness and GET /readyz for readiness (the worker serves /healthz on its health port)",
  check(stack) {
    return workloads(stack)
      .filter((w) => w.role !== undefined && APP_ROLES.includes(w.role) && !w.task)
      .flatMap((w) => {
        const problems = w.target === "docker" ? [problem(w.liveness, "healthcheck")] : [problem(w.liveness, "liveness_probe"), problem(w.readiness, "readiness_probe")];
        return problems.filter((p): p is string => p !== undefined).map((p) => violation(this, stack.name, w.where, `${w.role}: ${p}`));
      });
  },
};

/**
 * Containers drop every Linux capability (adding back only what the topology lists), are not
 * privileged, and run as a non-root user.
 *
 * "Where the image allows": every image this system runs has a non-root user (the node image's
 * 1000, the official postgres/redis/rabbitmq images' 999), so there is no exception today;
 * `ROOT_ALLOWED` lists image repositories that genuinely need root, with the reason.
 */
import { roleName, imageRepository, workloads, type Workload } from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

export const ROOT_ALLOWED: Readonly<Record<string, string>> = {};

function runsAsRoot(w: Workload): string | undefined {
  const s = w.security;
  if (w.target === "docker") {
    if (!s.user) return "sets no user (runs as the image's default, often root)";
    const uid = s.user.split(":")[0];
    return uid === "0" || uid === "root" ? `runs as user ${s.user}` : undefined;
  }
  if (s.runAsUser === 0) return "runs with run_as_user 0";
  if (s.runAsNonRoot !== true && s.runAsUser === undefined) return "sets neither run_as_non_root nor run_as_user";
  return undefined;
}

export const leastPrivilege: Rule = {
  id: "least-privilege",
  rationale: "A compromised process with root and the default capabilities can do far more damage than one running as a plain user with none.",
  fix: "drop ALL capabilities (Docker `capabilities.drop`, Swarm `cap_drop`, Kubernetes `security_context.capabilities.drop`) and run as the image's non-root user",
  check(stack) {
    const out: Violation[] = [];
    for (const w of workloads(stack)) {
      if (!w.security.capDrop.map((c) => c.toUpperCase()).includes("ALL")) {
        out.push(violation(this, stack.name, w.where, `${roleName(w)} does not drop ALL capabilities`));
      }
      if (w.security.privileged) out.push(violation(this, stack.name, w.where, `${roleName(w)} is privileged`));
      const root = runsAsRoot(w);
      if (root && !(w.image && imageRepository(w.image) in ROOT_ALLOWED)) {
        out.push(violation(this, stack.name, w.where, `${roleName(w)} ${root}`, "run as the image's non-root user (Docker `user`, Kubernetes `run_as_non_root: true` and `run_as_user`)"));
      }
    }
    return out;
  },
};

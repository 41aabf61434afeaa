/**
 * Postgres, Redis and RabbitMQ publish no ports: not on the Docker host (`ports`, Swarm
 * `endpoint_spec`), not through `host_port`/`host_network`, and not through a Kubernetes Service
 * of type LoadBalancer or NodePort (or with external IPs).
 */
import { blocks, block, DATA_ROLES, k8s, labelMap, resources, str, strings, workloads, type Role } from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

const isData = (role: Role | undefined): role is Role => role !== undefined && DATA_ROLES.includes(role);

export const dataPorts: Rule = {
  id: "data-ports",
  rationale: "Databases and brokers reachable from outside the system are the usual way data leaks; only the api is published.",
  fix: "publish nothing for the data services: drop `ports`/`endpoint_spec.ports` (Docker) and use a ClusterIP Service without host ports (Kubernetes)",
  check(stack) {
    const out: Violation[] = [];
    const data = workloads(stack).filter((w) => isData(w.role));
    for (const w of data) {
      for (const p of w.published) {
        const host = p.hostPort === undefined ? "a random host port" : `host port ${p.hostPort}`;
        out.push(violation(this, stack.name, w.where, `${w.role} publishes ${host}${p.containerPort ? ` → ${p.containerPort}` : ""}/${p.protocol} (${p.via})`));
      }
    }
    for (const svc of resources(stack, ...k8s("service"))) {
      const spec = block(svc.body.spec) ?? {};
      const selector = labelMap(spec.selector);
      if (Object.keys(selector).length === 0) continue;
      const targets = data.filter((w) => w.target === "kubernetes" && Object.entries(selector).every(([k, v]) => w.podLabels[k] === v));
      const role = targets[0]?.role;
      if (!role) continue;
      const type = str(spec.type) ?? "ClusterIP";
      if (type === "LoadBalancer" || type === "NodePort") {
        out.push(violation(this, stack.name, svc.address, `Service for ${role} has type ${type}`, "make the data services' Services type ClusterIP"));
      }
      if (strings(spec.external_ips).length > 0) {
        out.push(violation(this, stack.name, svc.address, `Service for ${role} has external_ips ${strings(spec.external_ips).join(", ")}`, "remove external_ips"));
      }
      if (blocks(spec.port).some((p) => p.node_port !== undefined)) {
        out.push(violation(this, stack.name, svc.address, `Service for ${role} sets a node_port`, "remove node_port"));
      }
    }
    return out;
  },
};

/**
 * Checks on an environment file that the schema alone cannot express: which target block goes
 * with which target, what a Swarm overlay needs, and what a prod-like environment may not do.
 */
import type { FieldIssue } from "../../config-files/errors.js";
import { highAvailabilityIssues } from "./ha-checks.js";
import { isProdLike, type Environment } from "./schema.js";

export function environmentIssues(env: Environment): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const prodLike = isProdLike(env.tier);

  if (env.target === "docker" && !env.docker) {
    issues.push({ path: "docker", message: "target (docker) needs a docker block (host, network)" });
  }
  if (env.target === "kubernetes" && !env.kubernetes) {
    issues.push({ path: "kubernetes", message: "target (kubernetes) needs a kubernetes block (namespace, kubeconfig, storageClass)" });
  }
  if (env.target === "docker" && env.kubernetes) {
    issues.push({ path: "kubernetes", message: "target (docker) does not use a kubernetes block; remove it" });
  }
  if (env.target === "kubernetes" && env.docker) {
    issues.push({ path: "docker", message: "target (kubernetes) does not use a docker block; remove it" });
  }

  const docker = env.target === "docker" ? env.docker : undefined;
  if (docker?.network.driver === "overlay" && !docker.swarmManager) {
    issues.push({
      path: "docker.network.driver",
      message: "docker.network.driver (overlay) needs docker.swarmManager: true (overlay networks and services exist only in Swarm mode)",
    });
  }
  if (docker?.network.driver === "bridge" && docker.network.encrypted) {
    issues.push({ path: "docker.network.encrypted", message: "docker.network.encrypted applies to overlay networks only (driver is bridge)" });
  }

  if (env.worker.runtime === "jvm" && !("image" in env.images.worker)) {
    issues.push({
      path: "images.worker",
      message: "worker.runtime (jvm) needs images.worker.image: services/Dockerfile builds the Node worker, so a JVM worker must name its own pinned image",
    });
  }

  if (prodLike) {
    if (env.secrets.generateDevelopmentSecrets) {
      issues.push({
        path: "secrets.generateDevelopmentSecrets",
        message: `tier (${env.tier}) is prod-like and may not use generated development secrets; supply TF_VAR_* from a secret store`,
      });
    }
    if (env.logLevel === "debug" || env.logLevel === "trace") {
      issues.push({ path: "logLevel", message: `tier (${env.tier}) is prod-like; logLevel ${env.logLevel} can log job payloads, use info or above` });
    }
    if (docker && /^tcp:\/\//.test(docker.host) && !docker.certPath) {
      issues.push({
        path: "docker.certPath",
        message: `tier (${env.tier}) is prod-like; docker.host (${docker.host}) over plain TCP needs docker.certPath for TLS`,
      });
    }
    if (docker?.network.driver === "overlay" && !docker.network.encrypted) {
      issues.push({
        path: "docker.network.encrypted",
        message: `tier (${env.tier}) is prod-like; an overlay network carries passwords between nodes, set docker.network.encrypted: true`,
      });
    }
  }
  issues.push(...highAvailabilityIssues(env));
  return issues;
}

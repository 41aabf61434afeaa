/**
 * Checks on the high-availability and external-service settings of an environment file
 * (`rabbitmq.replicas`, `external.*`): what a cluster's size must be, where a cluster can run,
 * and what a prod-like tier may not do with a service it reaches over someone else's network.
 * docs/high-availability.md explains the shapes these protect.
 */
import type { FieldIssue } from "../../config-files/errors.js";
import type { ConnectionBudget } from "../../presets/cross-checks.js";
import { isProdLike, type Environment } from "./schema.js";

export function highAvailabilityIssues(env: Environment): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const replicas = env.rabbitmq.replicas;
  if (replicas === 2) {
    issues.push({
      path: "rabbitmq.replicas",
      message: "rabbitmq.replicas (2) cannot keep a majority when a node is lost, so the cluster (and every quorum queue) stops; use 3, or 1",
    });
  } else if (replicas > 1 && replicas % 2 === 0) {
    issues.push({
      path: "rabbitmq.replicas",
      message: `rabbitmq.replicas (${replicas}) must be odd: ${replicas} nodes survive as many losses as ${replicas - 1}, and an even split can leave no majority; use ${replicas - 1} or ${replicas + 1}`,
    });
  }
  if (replicas > 1 && env.target === "docker") {
    issues.push({
      path: "rabbitmq.replicas",
      message: `rabbitmq.replicas (${replicas}): the docker target runs one RabbitMQ node (a Swarm service cannot give each replica its own volume and stable node name); cluster on kubernetes, or declare external.rabbitmq`,
    });
  }
  if (replicas > 1 && env.external.rabbitmq) {
    issues.push({
      path: "rabbitmq.replicas",
      message: `rabbitmq.replicas (${replicas}) sizes the bundled RabbitMQ, but external.rabbitmq is declared, so none is deployed; remove one of them`,
    });
  }

  if (isProdLike(env.tier)) {
    const pg = env.external.postgres;
    if (pg?.sslMode === "disable") {
      issues.push({
        path: "external.postgres.sslMode",
        message: `tier (${env.tier}) is prod-like; external.postgres.sslMode (disable) sends the password and every job in clear over a network you do not own: use verify-full (or require)`,
      });
    }
    if (env.external.rabbitmq && !env.external.rabbitmq.tls) {
      issues.push({
        path: "external.rabbitmq.tls",
        message: `tier (${env.tier}) is prod-like; external.rabbitmq.tls (false) sends the password in clear over a network you do not own: set tls: true (amqps://)`,
      });
    }
    if (env.external.redis && !env.external.redis.tls) {
      issues.push({
        path: "external.redis.tls",
        message: `tier (${env.tier}) is prod-like; external.redis.tls (false) sends the password in clear over a network you do not own: set tls: true (rediss://)`,
      });
    }
  }
  return issues;
}

/** An external Postgres must admit every pool; its declared max_connections replaces the preset's. */
export function externalConnectionIssues(env: Environment, budget: ConnectionBudget): FieldIssue[] {
  const pg = env.external.postgres;
  if (!pg || pg.maxConnections >= budget.total) return [];
  return [
    {
      path: "external.postgres.maxConnections",
      message:
        `external.postgres.maxConnections (${pg.maxConnections}) is below the pools it must serve ` +
        `(api ${budget.apiReplicas}×${budget.apiPool} + worker ${budget.workerReplicas}×${budget.workerPool} + reserve ${budget.reserve} = ${budget.total}); ` +
        `raise the server's max_connections (and this field), or shrink api.dbPoolSize / worker.dbPoolSize`,
    },
  ];
}

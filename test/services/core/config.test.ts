import { describe, expect, it } from "vitest";
import { consumerPrefetch, loadServiceConfig, redactConfig, ServiceConfigError } from "../../../services/core/config.js";

const base = {
  DATABASE_URL: "postgres://u:pgsecret@db:5432/jobs",
  REDIS_URL: "redis://redis:6379",
  AMQP_URL: "amqp://guest:amqpsecret@mq:5672",
  API_TOKEN: "0123456789abcdef0123",
};

describe("loadServiceConfig", () => {
  it("applies documented defaults", () => {
    const c = loadServiceConfig("worker", { ...base });
    expect(c).toMatchObject({
      port: 8080,
      healthPort: 8081,
      jobQueue: "jobs",
      queueType: "quorum",
      workerConcurrency: 8,
      leaseMs: 30_000,
      logLevel: "info",
      dbPoolSize: 10,
      handlerModules: [],
    });
    expect(c.workerId).toMatch(/-\d+$/);
  });

  it("applies the documented defaults of the fault-handling settings, and reads them", () => {
    expect(loadServiceConfig("api", { ...base })).toMatchObject({
      amqpTimeoutMs: 10_000,
      queueRepairAfterTimeouts: 3,
      dependencyLivenessLimitMs: 120_000,
      dbStatementTimeoutMs: 30_000,
    });
    const c = loadServiceConfig("worker", { ...base, AMQP_TIMEOUT_MS: "2000", QUEUE_REPAIR_AFTER_TIMEOUTS: "0", DEPENDENCY_LIVENESS_LIMIT_MS: "60000", DB_STATEMENT_TIMEOUT_MS: "0" });
    expect(c).toMatchObject({ amqpTimeoutMs: 2_000, queueRepairAfterTimeouts: 0, dependencyLivenessLimitMs: 60_000, dbStatementTimeoutMs: 0 });
  });

  it("claims ahead by default: the consumer prefetch is 4 × WORKER_CONCURRENCY unless WORKER_PREFETCH says otherwise", () => {
    const prefetch = (env: Record<string, string>) => consumerPrefetch(loadServiceConfig("worker", { ...base, ...env }));
    expect(prefetch({})).toBe(32);
    expect(prefetch({ WORKER_CONCURRENCY: "3" })).toBe(12);
    expect(prefetch({ WORKER_CONCURRENCY: "1000" })).toBe(4000);
    expect(prefetch({ WORKER_CONCURRENCY: "8", WORKER_PREFETCH: "8" })).toBe(8); // claim ahead off
    expect(prefetch({ WORKER_CONCURRENCY: "8", WORKER_PREFETCH: "2" })).toBe(8); // never below the concurrency
    expect(prefetch({ WORKER_CONCURRENCY: "8", WORKER_PREFETCH: "100" })).toBe(100);
    expect(consumerPrefetch({ workerConcurrency: 5_000, workerPrefetch: 0 })).toBe(10_000); // capped at WORKER_PREFETCH's maximum
  });

  it("parses numbers, lists and enums", () => {
    const c = loadServiceConfig("worker", { ...base, WORKER_CONCURRENCY: "32", QUEUE_TYPE: "classic", JOB_HANDLER_MODULES: " ./a.ts, b ", WORKER_ID: "w1" });
    expect(c.workerConcurrency).toBe(32);
    expect(c.queueType).toBe("classic");
    expect(c.handlerModules).toEqual(["./a.ts", "b"]);
    expect(c.workerId).toBe("w1");
  });

  it("needs only DATABASE_URL to migrate", () => {
    expect(loadServiceConfig("migrate", { DATABASE_URL: base.DATABASE_URL }).databaseUrl).toBe(base.DATABASE_URL);
  });

  it("masks credentials for logging", () => {
    const r = redactConfig(loadServiceConfig("api", { ...base }));
    expect(JSON.stringify(r)).not.toMatch(/pgsecret|amqpsecret|0123456789abcdef0123/);
  });
});

describe("loadServiceConfig failures", () => {
  const problems = (role: "api" | "worker" | "migrate", env: Record<string, string>) => {
    try {
      loadServiceConfig(role, env);
    } catch (err) {
      expect(err).toBeInstanceOf(ServiceConfigError);
      return err as ServiceConfigError;
    }
    throw new Error("expected a ServiceConfigError");
  };

  it("names each fault-handling setting that is out of range", () => {
    const err = (() => {
      try {
        loadServiceConfig("worker", { ...base, DEPENDENCY_LIVENESS_LIMIT_MS: "10", AMQP_TIMEOUT_MS: "soon", DB_STATEMENT_TIMEOUT_MS: "-1" });
      } catch (e) {
        return e as ServiceConfigError;
      }
      throw new Error("expected a ServiceConfigError");
    })();
    expect(err).toBeInstanceOf(ServiceConfigError);
    expect(err.issues).toEqual(
      expect.arrayContaining([
        "DEPENDENCY_LIVENESS_LIMIT_MS must be at least 1000",
        "AMQP_TIMEOUT_MS must be a number",
        "DB_STATEMENT_TIMEOUT_MS must be at least 0",
      ]),
    );
  });

  it("reports every problem at once", () => {
    const err = problems("api", { DATABASE_URL: "mysql://x", WORKER_CONCURRENCY: "zero", LEASE_MS: "5", QUEUE_TYPE: "stream", API_TOKEN: "short" });
    const text = err.issues.join("\n");
    expect(text).toMatch(/DATABASE_URL must be a URL with scheme postgres/);
    expect(text).toMatch(/WORKER_CONCURRENCY must be a number/);
    expect(text).toMatch(/LEASE_MS must be at least 200/);
    expect(text).toMatch(/QUEUE_TYPE must be quorum or classic/);
    expect(text).toMatch(/API_TOKEN must be at least 16 characters/);
    expect(text).toMatch(/REDIS_URL is required for the api/);
    expect(text).toMatch(/AMQP_URL is required for the api/);
    expect(err.issues.length).toBe(7);
  });

  it("never echoes a secret", () => {
    const err = problems("api", { ...base, DATABASE_URL: "postgres//u:pgsecret@db", API_TOKEN: "tinysecret" });
    expect(err.message).not.toMatch(/pgsecret|tinysecret/);
  });

  it("requires the token only for the api", () => {
    const { API_TOKEN: _, ...noToken } = base;
    expect(problems("api", noToken).issues).toEqual(["API_TOKEN is required for the api"]);
    expect(() => loadServiceConfig("worker", noToken)).not.toThrow();
  });

  it("takes an optional OPERATOR_TOKEN of 16+ characters that differs from API_TOKEN, and masks it", () => {
    expect(loadServiceConfig("api", base).operatorToken).toBe("");
    const c = loadServiceConfig("api", { ...base, OPERATOR_TOKEN: "operator-secret-0123" });
    expect(c.operatorToken).toBe("operator-secret-0123");
    expect(JSON.stringify(redactConfig(c))).not.toMatch(/operator-secret/);
    expect(problems("api", { ...base, OPERATOR_TOKEN: "shortop" }).issues).toEqual(["OPERATOR_TOKEN must be at least 16 characters"]);
    const same = problems("api", { ...base, OPERATOR_TOKEN: base.API_TOKEN });
    expect(same.issues).toEqual(["OPERATOR_TOKEN must differ from API_TOKEN"]);
    expect(same.message).not.toContain(base.API_TOKEN);
  });

  it("takes an optional http(s) RABBITMQ_MANAGEMENT_URL and masks its password", () => {
    expect(loadServiceConfig("api", base).rabbitmqManagementUrl).toBe("");
    const c = loadServiceConfig("api", { ...base, RABBITMQ_MANAGEMENT_URL: "http://ops:mgmtsecret@rabbitmq:15672" });
    expect(c.rabbitmqManagementUrl).toBe("http://ops:mgmtsecret@rabbitmq:15672");
    expect(JSON.stringify(redactConfig(c))).not.toMatch(/mgmtsecret/);
    const bad = problems("api", { ...base, RABBITMQ_MANAGEMENT_URL: "amqp://ops:mgmtsecret@rabbitmq" });
    expect(bad.issues).toEqual(["RABBITMQ_MANAGEMENT_URL must be a URL with scheme http:// or https://"]);
    expect(bad.message).not.toMatch(/mgmtsecret/);
  });

  it("names both fields when they conflict", () => {
    expect(problems("worker", { ...base, RETRY_BASE_MS: "5000", RETRY_MAX_MS: "100" }).issues).toEqual([
      "RETRY_MAX_MS (100) must be at least RETRY_BASE_MS (5000)",
    ]);
  });
});

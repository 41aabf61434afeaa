// The edges of every numeric setting and the exact wording of the problems, written out by hand
// from the table at the top of services/core/config.ts: the last accepted value and the first
// refused one on each side, and the default when the variable is unset or empty.
import { describe, expect, it } from "vitest";
import { loadServiceConfig, redactConfig, ServiceConfigError, type ServiceConfig } from "../../../services/core/config.js";

const base = {
  DATABASE_URL: "postgres://u:pgsecret@db:5432/jobs",
  REDIS_URL: "redis://redis:6379",
  AMQP_URL: "amqp://guest:amqpsecret@mq:5672",
  API_TOKEN: "0123456789abcdef0123",
};

const problems = (env: Record<string, string>, role: "api" | "worker" | "migrate" = "worker"): ServiceConfigError => {
  try {
    loadServiceConfig(role, env);
  } catch (err) {
    if (err instanceof ServiceConfigError) return err;
    throw err;
  }
  throw new Error("expected a ServiceConfigError");
};

const DAY_MS = 86_400_000;
const DAY_S = 86_400;
const YEAR_100_S = 100 * 365 * DAY_S;

// [variable, how to read it from the config, least, greatest, default, other variables the edges need]
const ranges: [string, (c: ServiceConfig) => number, number, number, number, Record<string, string>?][] = [
  ["PORT", (c) => c.port, 0, 65_535, 8_080],
  ["HEALTH_PORT", (c) => c.healthPort, 0, 65_535, 8_081],
  ["WORKER_CONCURRENCY", (c) => c.workerConcurrency, 1, 1_000, 8],
  ["LEASE_MS", (c) => c.leaseMs, 200, 3_600_000, 30_000],
  ["DB_POOL_SIZE", (c) => c.dbPoolSize, 1, 1_000, 10],
  ["REAPER_INTERVAL_MS", (c) => c.reaperIntervalMs, 50, 3_600_000, 5_000],
  ["SWEEPER_INTERVAL_MS", (c) => c.sweeperIntervalMs, 50, 3_600_000, 5_000],
  ["SWEEP_AFTER_MS", (c) => c.sweepAfterMs, 0, DAY_MS, 10_000],
  ["REDISPATCH_AFTER_MS", (c) => c.redispatchAfterMs, 0, 604_800_000, 900_000],
  ["RETRY_BASE_MS", (c) => c.retryBaseMs, 0, 3_600_000, 1_000, { RETRY_MAX_MS: String(DAY_MS) }],
  ["RETRY_MAX_MS", (c) => c.retryMaxMs, 0, DAY_MS, 300_000, { RETRY_BASE_MS: "0" }],
  ["SHUTDOWN_TIMEOUT_MS", (c) => c.shutdownTimeoutMs, 0, 3_600_000, 25_000],
  ["CACHE_TTL_SECONDS", (c) => c.cacheTtlSeconds, 1, 2_592_000, 3_600],
  ["CACHE_ACTIVE_TTL_SECONDS", (c) => c.cacheActiveTtlSeconds, 1, DAY_S, 15],
  ["UNKNOWN_TYPE_RETRY_MS", (c) => c.unknownTypeRetryMs, 0, DAY_MS, 30_000],
  ["UNKNOWN_TYPE_FAIL_AFTER_MS", (c) => c.unknownTypeFailAfterMs, 0, 2_592_000_000, DAY_MS],
  ["BODY_LIMIT_BYTES", (c) => c.bodyLimitBytes, 1_024, 104_857_600, 1_048_576],
  ["BODY_MAX_DEPTH", (c) => c.bodyMaxDepth, 1, 1_000, 64],
  ["AMQP_TIMEOUT_MS", (c) => c.amqpTimeoutMs, 100, 600_000, 10_000],
  ["QUEUE_REPAIR_AFTER_TIMEOUTS", (c) => c.queueRepairAfterTimeouts, 0, 100, 3],
  ["DEPENDENCY_LIVENESS_LIMIT_MS", (c) => c.dependencyLivenessLimitMs, 1_000, DAY_MS, 120_000],
  ["DB_STATEMENT_TIMEOUT_MS", (c) => c.dbStatementTimeoutMs, 0, DAY_MS, 30_000],
  ["RETENTION_COMPLETED_SECONDS", (c) => c.retention.completed, 0, YEAR_100_S, 604_800],
  ["RETENTION_FAILED_SECONDS", (c) => c.retention.failed, 0, YEAR_100_S, 2_592_000],
  ["RETENTION_CANCELLED_SECONDS", (c) => c.retention.cancelled, 0, YEAR_100_S, 604_800],
  ["RETENTION_INTERVAL_MS", (c) => c.retentionIntervalMs, 100, DAY_MS, 60_000],
  ["RETENTION_BATCH_SIZE", (c) => c.retentionBatchSize, 1, 100_000, 500],
  ["RETENTION_BATCH_PAUSE_MS", (c) => c.retentionBatchPauseMs, 0, 60_000, 50],
  ["RETENTION_PARTITION_SECONDS", (c) => c.retentionPartitionSeconds, 1, 31_622_400, DAY_S],
  ["QUEUE_MAX_LENGTH", (c) => c.queueMaxLength, 0, 1_000_000_000, 1_000_000],
  ["DEAD_LETTER_MAX_LENGTH", (c) => c.deadLetterMaxLength, 0, 1_000_000_000, 100_000],
];

describe("every numeric setting", () => {
  it.each(ranges)("%s: default, both edges accepted, one past each refused, fractions refused", (name, read, least, greatest, dflt, extra = {}) => {
    const env = { ...base, ...extra };
    expect(read(loadServiceConfig("worker", env))).toBe(dflt);
    expect(read(loadServiceConfig("worker", { ...env, [name]: "" }))).toBe(dflt);
    expect(read(loadServiceConfig("worker", { ...env, [name]: String(least) }))).toBe(least);
    expect(read(loadServiceConfig("worker", { ...env, [name]: String(greatest) }))).toBe(greatest);
    expect(problems({ ...env, [name]: String(least - 1) }).issues).toEqual([`${name} must be at least ${least}`]);
    expect(problems({ ...env, [name]: String(greatest + 1) }).issues).toEqual([`${name} must be at most ${greatest}`]);
    expect(problems({ ...env, [name]: "1.5" }).issues).toEqual([`${name} must be an integer`]);
    expect(problems({ ...env, [name]: "many" }).issues).toEqual([`${name} must be a number`]);
  });

  it("accepts a retry cap equal to the base delay", () => {
    const c = loadServiceConfig("worker", { ...base, RETRY_BASE_MS: "7000", RETRY_MAX_MS: "7000" });
    expect([c.retryBaseMs, c.retryMaxMs]).toEqual([7_000, 7_000]);
    expect(problems({ ...base, RETRY_BASE_MS: "7000", RETRY_MAX_MS: "6999" }).issues).toEqual(["RETRY_MAX_MS (6999) must be at least RETRY_BASE_MS (7000)"]);
  });
});

describe("text settings", () => {
  it("JOB_QUEUE: 1 to 200 of A-Z a-z 0-9 _ . : -, default jobs", () => {
    const message = "JOB_QUEUE must be 1-200 characters of A-Z a-z 0-9 _ . : -";
    expect(loadServiceConfig("worker", { ...base, JOB_QUEUE: "a" }).jobQueue).toBe("a");
    expect(loadServiceConfig("worker", { ...base, JOB_QUEUE: "Az09_.:-" }).jobQueue).toBe("Az09_.:-");
    expect(loadServiceConfig("worker", { ...base, JOB_QUEUE: "q".repeat(200) }).jobQueue).toBe("q".repeat(200));
    expect(problems({ ...base, JOB_QUEUE: "q".repeat(201) }).issues).toEqual([message]);
    expect(problems({ ...base, JOB_QUEUE: "jobs and more" }).issues).toEqual([message]);
    expect(problems({ ...base, JOB_QUEUE: " jobs" }).issues).toEqual([message]);
    expect(problems({ ...base, JOB_QUEUE: "jobs/" }).issues).toEqual([message]);
  });

  it("LOG_LEVEL: one of the pino levels, named in the problem", () => {
    for (const level of ["fatal", "error", "warn", "info", "debug", "trace", "silent"]) {
      expect(loadServiceConfig("worker", { ...base, LOG_LEVEL: level }).logLevel).toBe(level);
    }
    expect(problems({ ...base, LOG_LEVEL: "verbose" }).issues).toEqual(["LOG_LEVEL must be one of fatal error warn info debug trace silent"]);
  });

  it("QUEUE_TYPE: quorum or classic, both accepted when given", () => {
    expect(loadServiceConfig("worker", { ...base, QUEUE_TYPE: "quorum" }).queueType).toBe("quorum");
    expect(loadServiceConfig("worker", { ...base, QUEUE_TYPE: "classic" }).queueType).toBe("classic");
  });

  it("HOST defaults to every interface; WORKER_ID is at most 200 characters; CACHE_PREFIX at most 100", () => {
    expect(loadServiceConfig("worker", base).host).toBe("0.0.0.0");
    expect(loadServiceConfig("worker", { ...base, HOST: "127.0.0.1" }).host).toBe("127.0.0.1");
    expect(loadServiceConfig("worker", { ...base, WORKER_ID: "w".repeat(200) }).workerId).toBe("w".repeat(200));
    expect(problems({ ...base, WORKER_ID: "w".repeat(201) }).issues).toHaveLength(1);
    expect(problems({ ...base, WORKER_ID: "w".repeat(201) }).issues[0]).toMatch(/^WORKER_ID /);
    expect(loadServiceConfig("worker", base).cachePrefix).toBe("jobstack:");
    expect(loadServiceConfig("worker", { ...base, CACHE_PREFIX: "p".repeat(100) }).cachePrefix).toBe("p".repeat(100));
    expect(problems({ ...base, CACHE_PREFIX: "p".repeat(101) }).issues[0]).toMatch(/^CACHE_PREFIX /);
  });

  it("an empty variable counts as unset", () => {
    expect(problems({ ...base, REDIS_URL: "" }).issues).toEqual(["REDIS_URL is required for the worker"]);
    expect(problems({ ...base, AMQP_URL: "" }).issues).toEqual(["AMQP_URL is required for the worker"]);
    expect(problems({ ...base, API_TOKEN: "" }, "api").issues).toEqual(["API_TOKEN is required for the api"]);
    expect(problems({ ...base, DATABASE_URL: "" }).issues).toEqual(["DATABASE_URL is required"]);
    expect(loadServiceConfig("worker", { ...base, JOB_QUEUE: "", LOG_LEVEL: "" })).toMatchObject({ jobQueue: "jobs", logLevel: "info" });
  });

  it("URL schemes: each allowed one accepted, the problem lists them, a non-URL is refused the same way", () => {
    expect(loadServiceConfig("worker", { ...base, DATABASE_URL: "postgresql://db/jobs" }).databaseUrl).toBe("postgresql://db/jobs");
    expect(loadServiceConfig("worker", { ...base, REDIS_URL: "rediss://r:6380" }).redisUrl).toBe("rediss://r:6380");
    expect(loadServiceConfig("api", { ...base, RABBITMQ_MANAGEMENT_URL: "https://m:15671" }).rabbitmqManagementUrl).toBe("https://m:15671");
    expect(problems({ ...base, REDIS_URL: "http://r" }).issues).toEqual(["REDIS_URL must be a URL with scheme redis:// or rediss://"]);
    expect(problems({ ...base, DATABASE_URL: "not a url" }).issues).toEqual(["DATABASE_URL must be a URL with scheme postgres:// or postgresql://"]);
  });

  it("AMQP_URL problems carry the parser's reason", () => {
    expect(problems({ ...base, AMQP_URL: "http://mq" }).issues).toEqual(["AMQP_URL must use amqp:// or amqps:// in every entry"]);
    expect(problems({ ...base, AMQP_URL: "amqp://a,,amqp://b" }).issues).toEqual(["AMQP_URL has an empty entry between commas"]);
  });
});

describe("ServiceConfigError", () => {
  it("counts its problems in the message, one per line", () => {
    expect(problems({ ...base, PORT: "-1" }).message).toBe("invalid service configuration (1 problem):\n  - PORT must be at least 0");
    expect(problems({ ...base, PORT: "-1", HEALTH_PORT: "70000" }).message).toBe(
      "invalid service configuration (2 problems):\n  - PORT must be at least 0\n  - HEALTH_PORT must be at most 65535",
    );
    expect(problems({ ...base, PORT: "-1" }).name).toBe("ServiceConfigError");
  });
});

describe("redactConfig", () => {
  it("masks only the passwords and tokens, and leaves unset ones empty", () => {
    const api = redactConfig(
      loadServiceConfig("api", {
        ...base,
        REDIS_URL: "redis://:redissecret@redis:6379",
        AMQP_URL: "amqp://guest:amqpsecret@mq1:5672,amqp://guest:amqpsecret@mq2:5672",
        OPERATOR_TOKEN: "operator-secret-0123",
        RABBITMQ_MANAGEMENT_URL: "http://ops@rabbitmq:15672",
      }),
    );
    expect(api).toMatchObject({
      databaseUrl: "postgres://u:***@db:5432/jobs",
      redisUrl: "redis://:***@redis:6379",
      amqpUrl: "amqp://guest:***@mq1:5672,amqp://guest:***@mq2:5672",
      apiToken: "***",
      operatorToken: "***",
      // Masking re-serialises the URL, which adds the root path.
      rabbitmqManagementUrl: "http://ops@rabbitmq:15672/",
      jobQueue: "jobs",
      port: 8_080,
    });
    const migrate = redactConfig(loadServiceConfig("migrate", { DATABASE_URL: "postgres://db/jobs" }));
    expect(migrate).toMatchObject({ databaseUrl: "postgres://db/jobs", redisUrl: "", amqpUrl: "", apiToken: "", operatorToken: "", rabbitmqManagementUrl: "" });
  });
});

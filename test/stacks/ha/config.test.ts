/**
 * Bad input for the high-availability settings (stacks/config/ha-checks.ts): each is a
 * configuration error naming the file, the line, the field and the reason, and nothing is
 * synthesized.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ConfigError, ENVIRONMENTS_DIR } from "../../../stacks/config/index.js";
import { envFromYaml } from "../support.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const shipped = (name: string): Doc => parse(readFileSync(join(ENVIRONMENTS_DIR, `${name}.yaml`), "utf8"));

function problems(base: string, edit: (doc: Doc) => void, preset?: string): string[] {
  const doc = shipped(base);
  edit(doc);
  try {
    envFromYaml(`${base}-variant`, stringify(doc), preset);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}${i.line ? ` @${i.line}` : ""}`);
    throw err;
  }
  return [];
}

const pgExternal = { host: "db.internal.example.com", database: "jobstack", user: "jobstack", maxConnections: 500 };

describe("rabbitmq.replicas", () => {
  it("prod resolves with a three-node cluster", () => {
    expect(problems("prod", () => {})).toEqual([]);
  });

  it("refuses 2: no majority survives a loss", () => {
    expect(problems("prod", (d) => (d.rabbitmq.replicas = 2))).toEqual([
      expect.stringMatching(/^rabbitmq\.replicas: rabbitmq\.replicas \(2\) cannot keep a majority when a node is lost.* @\d+$/),
    ]);
  });

  it("refuses an even count, suggesting the odd neighbours", () => {
    expect(problems("prod", (d) => (d.rabbitmq.replicas = 4))).toEqual([expect.stringMatching(/^rabbitmq\.replicas: rabbitmq\.replicas \(4\) must be odd.*use 3 or 5/)]);
  });

  it("refuses a cluster on Docker, where one node is what is supported", () => {
    expect(problems("staging", (d) => (d.rabbitmq = { replicas: 3 }))).toEqual([
      expect.stringMatching(/^rabbitmq\.replicas: rabbitmq\.replicas \(3\): the docker target runs one RabbitMQ node/),
    ]);
  });

  it("refuses a cluster size next to an external RabbitMQ", () => {
    expect(problems("prod", (d) => (d.external = { rabbitmq: { host: "mq.example.com", user: "jobstack" } }))).toEqual([
      expect.stringMatching(/^rabbitmq\.replicas: .*external\.rabbitmq is declared/),
    ]);
  });
});

describe("external services", () => {
  it("refuses an external service without a host", () => {
    expect(problems("prod", (d) => (d.external = { redis: { port: 6380 } }))).toEqual([
      expect.stringMatching(/^external\.redis\.host: is required: an external service is reached at a host name or address/),
    ]);
  });

  it("checks the pools against the declared maxConnections, not the preset's", () => {
    // high-throughput: api 3×10 + worker (autoscaling max) 12×8 + reserve 10 = … > 50
    const found = problems("prod", (d) => (d.external = { postgres: { ...pgExternal, maxConnections: 50 } }));
    expect(found).toEqual([expect.stringMatching(/^external\.postgres\.maxConnections: external\.postgres\.maxConnections \(50\) is below the pools it must serve \(api \d+×\d+ \+ worker \d+×\d+ \+ reserve \d+ = \d+\)/)]);
    // The preset's own postgres.maxConnections no longer matters: it configures no server.
    expect(problems("prod", (d) => {
      d.external = { postgres: pgExternal };
      d.overrides = { ...d.overrides, postgres: { maxConnections: 10 } };
    })).toEqual([]);
  });

  it("refuses sslMode disable and plain-TCP Redis/RabbitMQ in a prod-like tier, and allows them in dev", () => {
    const insecure = (d: Doc) =>
      (d.external = {
        postgres: { ...pgExternal, sslMode: "disable" },
        redis: { host: "cache.example.com", tls: false },
        rabbitmq: { host: "mq.example.com", user: "jobstack", tls: false },
      });
    expect(
      problems("prod", (d) => {
        insecure(d);
        delete d.rabbitmq;
      }),
    ).toEqual([
      expect.stringMatching(/^external\.postgres\.sslMode: tier \(prod\) is prod-like; external\.postgres\.sslMode \(disable\) sends the password/),
      expect.stringMatching(/^external\.rabbitmq\.tls: tier \(prod\) is prod-like/),
      expect.stringMatching(/^external\.redis\.tls: tier \(prod\) is prod-like/),
    ]);
    expect(problems("dev", insecure)).toEqual([]);
  });

  it("refuses a malformed cidr and unknown fields", () => {
    expect(problems("prod", (d) => (d.external = { redis: { host: "cache", cidr: "10.0.0.0", tsl: true } }))).toEqual([
      expect.stringMatching(/^external\.redis\.cidr: must be a CIDR block/),
      expect.stringMatching(/^external\.redis\.tsl: unknown field/),
    ]);
  });
});

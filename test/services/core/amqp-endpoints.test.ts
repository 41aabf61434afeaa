/**
 * AMQP_URL as a list of cluster nodes (services/core/amqp-endpoints.ts): both spellings parse to
 * one URL per node, attempts rotate through them, and malformed lists are refused at start-up
 * without echoing the password.
 */
import { describe, expect, it } from "vitest";
import { AmqpEndpoints, AmqpUrlError, parseAmqpUrls } from "../../../services/core/amqp-endpoints.js";
import { loadServiceConfig, redactConfig } from "../../../services/core/config.js";

const base = { DATABASE_URL: "postgres://u:p@db:5432/jobs", REDIS_URL: "redis://cache:6379/0", API_TOKEN: "0123456789abcdef0123" };

describe("parseAmqpUrls", () => {
  it("keeps a single URL as it is", () => {
    expect(parseAmqpUrls("amqp://u:p@mq:5672/%2F")).toEqual(["amqp://u:p@mq:5672/%2F"]);
  });

  it("expands a shared host list, giving every node the same credentials, vhost and query", () => {
    expect(parseAmqpUrls("amqps://jobstack:s%2Cecret@rabbit-1:5671,rabbit-2:5671,rabbit-3/prod?heartbeat=10")).toEqual([
      "amqps://jobstack:s%2Cecret@rabbit-1:5671/prod?heartbeat=10",
      "amqps://jobstack:s%2Cecret@rabbit-2:5671/prod?heartbeat=10",
      "amqps://jobstack:s%2Cecret@rabbit-3/prod?heartbeat=10",
    ]);
    expect(parseAmqpUrls("amqp://127.0.0.1:5673,127.0.0.1:5674")).toEqual(["amqp://127.0.0.1:5673", "amqp://127.0.0.1:5674"]);
  });

  it("accepts a list of full URLs, each with its own scheme and credentials", () => {
    expect(parseAmqpUrls("amqp://a:b@n1:5672, amqps://c:d@n2:5671")).toEqual(["amqp://a:b@n1:5672", "amqps://c:d@n2:5671"]);
  });

  it.each([
    ["", /is empty/],
    ["amqp://u:p@n1:5672,,n2", /empty entry/],
    ["amqp://u:p@n1:5672,n2:5672,amqp://n3", /mixes full URLs and bare hosts/],
    ["http://u:p@n1:5672", /amqp:\/\/ or amqps:\/\//],
    ["amqp://u:p@n1:5672,amqp://u:p@n2:notaport", /not a valid URL/],
    ["amqp://u:p@n1:5672,redis://n2", /amqp:\/\/ or amqps:\/\/ in every entry/],
  ])("refuses %j", (value, message) => {
    expect(() => parseAmqpUrls(value)).toThrow(AmqpUrlError);
    expect(() => parseAmqpUrls(value)).toThrow(message);
  });

  it.each([
    ["mq:5672", "must start with amqp:// or amqps://"],
    ["amqp://", "has an entry without a host"],
    ["amqp://n1,amqp://", "has an entry without a host"],
    ["amqp://u:p@n1:notaport", "has an entry that is not a valid URL"],
    ["amqp://n1,amqp://n2:x", "has an entry that is not a valid URL"],
  ])("refuses %j with exactly %j", (value, message) => {
    let caught: unknown;
    try {
      parseAmqpUrls(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AmqpUrlError);
    expect((caught as AmqpUrlError).message).toBe(message);
    expect((caught as AmqpUrlError).name).toBe("AmqpUrlError");
  });

  it("trims the value and each entry, and takes the scheme in any case", () => {
    expect(parseAmqpUrls("  amqp://mq:5672  ")).toEqual(["amqp://mq:5672"]);
    expect(parseAmqpUrls("AMQP://n1, AMQPS://n2")).toEqual(["AMQP://n1", "AMQPS://n2"]);
    expect(parseAmqpUrls("AMQP://u@n1, n2 /v")).toEqual(["AMQP://u@n1/v", "AMQP://u@n2/v"]);
  });
});

describe("AmqpEndpoints", () => {
  it("hands out every node in turn, starting where it is told", () => {
    const e = new AmqpEndpoints("amqp://u:p@n1,n2,n3", 1);
    expect([e.next(), e.next(), e.next(), e.next()]).toEqual(["amqp://u:p@n2", "amqp://u:p@n3", "amqp://u:p@n1", "amqp://u:p@n2"]);
  });

  it("starts at a random node by default, so a fleet spreads over the cluster", () => {
    const firsts = new Set(Array.from({ length: 60 }, () => new AmqpEndpoints("amqp://n1,n2,n3").next()));
    expect(firsts.size).toBeGreaterThan(1);
  });
});

describe("AMQP_URL in the service config", () => {
  it("accepts a node list, and masks every password when the config is logged", () => {
    const config = loadServiceConfig("api", { ...base, AMQP_URL: "amqp://jobstack:topsecret@n1:5672,n2:5672,n3:5672" });
    expect(config.amqpUrl).toBe("amqp://jobstack:topsecret@n1:5672,n2:5672,n3:5672");
    const logged = String(redactConfig(config).amqpUrl);
    expect(logged).not.toContain("topsecret");
    expect(logged.split(",")).toHaveLength(3);
  });

  it("names AMQP_URL and the problem, never the password", () => {
    let message = "";
    try {
      loadServiceConfig("worker", { ...base, AMQP_URL: "amqp://jobstack:topsecret@n1:5672,,n2" });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/AMQP_URL has an empty entry between commas/);
    expect(message).not.toContain("topsecret");
  });
});

import { describe, expect, it } from "vitest";
import { SECRET_NAME, secretValues, SystemSecret } from "../../../stacks/kubernetes/secrets.js";
import { prod, resources, synthConstructs } from "./support.js";

const { topology } = prod();

describe("SystemSecret", () => {
  it("holds every secret key of the topology, filled from sensitive variables", () => {
    const json = synthConstructs((s) => new SystemSecret(s, "secrets", { namespace: "ns", topology }));
    const [secret] = resources(json, "kubernetes_secret_v1");
    expect(secret!.body.metadata.name).toBe(SECRET_NAME);
    expect(Object.keys(secret!.body.data).sort()).toEqual([...secretValues(topology).keys()].sort());
    expect(secret!.body.data["database-url"]).toBe('postgres://jobstack:${replace(urlencode(var.postgres_password), "+", "%20")}@postgres:5432/jobstack');
    expect(secret!.body.data["api-token"]).toBe("${var.api_token}");
    expect(secret!.body.data["operator-token"]).toBe("${var.operator_token}");
    expect(Object.keys(json.variable).sort()).toEqual(["api_token", "operator_token", "postgres_password", "rabbitmq_password", "redis_password"]);
    expect(json.variable.api_token.sensitive).toBe(true);
    expect(resources(json, "random_password")).toHaveLength(0);
  });

  it("generates random passwords instead for a dev-tier environment that asks for them", () => {
    const json = synthConstructs((s) => new SystemSecret(s, "secrets", { namespace: "ns", topology, generate: true }));
    expect(json.variable).toBeUndefined();
    expect(resources(json, "random_password")).toHaveLength(5);
    const [secret] = resources(json, "kubernetes_secret_v1");
    expect(secret!.body.data["redis-password"]).toMatch(/^\$\{random_password\..*\.result\}$/);
    expect(json.provider.random).toBeDefined();
  });

  it("refuses one key with two different contents", () => {
    const [first, ...rest] = topology.services;
    const clash = { ...first!, secretEnv: { X: { key: "api-token", parts: ["literal"] } } };
    expect(() => secretValues({ ...topology, services: [clash, ...rest] })).toThrow(/api-token is defined twice/);
  });
});

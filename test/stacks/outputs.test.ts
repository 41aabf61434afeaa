/**
 * stacks/outputs.ts on every shipped environment and both targets: the same output names, an
 * api_url a client can use, and for each token either a sensitive output (generated) or the
 * name of the variable the operator supplied, never both.
 */
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../stacks/config/index.js";
import { readOutputCommand } from "../../stacks/outputs.js";
import { environmentVariant, type Json } from "./kubernetes/support.js";
import { synthEnv } from "./support.js";

const synthShipped = (name: string): Json => synthEnv(loadEnvironment(name)).json;
const shipped = { dev: synthShipped("dev"), staging: synthShipped("staging"), prod: synthShipped("prod") };
const kindDev = synthEnv(
  environmentVariant("prod", "kind-dev", (doc) => {
    doc.tier = "dev";
    doc.secrets = { generateDevelopmentSecrets: true };
    doc.backend = { type: "local" };
    delete doc.kubernetes.ingress;
  }, "dev"),
).json;
const plainIngress = synthEnv(
  environmentVariant("prod", "prod-http", (doc) => {
    delete doc.kubernetes.ingress.tlsSecretName;
  }),
).json;

const COMMON = ["api_url", "notes"];
const GENERATED = ["api_token", "operator_token"];
const SUPPLIED = ["api_token_variable", "operator_token_variable"];
const common = (json: Json) => Object.keys(json.output).filter((k) => !["namespace", "api_service_name", "network_name"].includes(k)).sort();

describe("stack outputs", () => {
  it("name the api URL and the tokens the same way on every environment and target", () => {
    expect(common(shipped.dev)).toEqual([...COMMON, ...GENERATED].sort());
    expect(common(kindDev)).toEqual([...COMMON, ...GENERATED].sort());
    expect(common(shipped.staging)).toEqual([...COMMON, ...SUPPLIED].sort());
    expect(common(shipped.prod)).toEqual([...COMMON, ...SUPPLIED].sort());
  });

  it("give the URL a client outside the system uses", () => {
    expect(shipped.dev.output.api_url.value).toBe("http://localhost:8080");
    expect(shipped.staging.output.api_url.value).toBe("http://swarm-manager.staging.internal:8080");
    expect(shipped.prod.output.api_url.value).toBe("https://jobs.example.com");
    expect(plainIngress.output.api_url.value).toBe("http://jobs.example.com");
    expect(kindDev.output.api_url.value).toBe("http://localhost:8080");
    expect(kindDev.output.notes.value).toContain("kubectl -n jobstack-prod port-forward svc/api 8080:80");
  });

  it("output a generated token as sensitive, straight from the random_password", () => {
    for (const json of [shipped.dev, kindDev]) {
      for (const name of GENERATED) {
        expect(json.output[name].sensitive, name).toBe(true);
        expect(json.output[name].value).toMatch(/^\$\{random_password\.[^.]+\.result\}$/);
      }
      // Two different passwords, not one token under two names.
      expect(json.output.api_token.value).not.toBe(json.output.operator_token.value);
    }
    expect(shipped.dev.output.api_token.description).toContain(readOutputCommand("dev", "api_token"));
  });

  it("name the variable of a supplied token, and never print its value", () => {
    for (const json of [shipped.staging, shipped.prod]) {
      expect(json.output.api_token_variable.value).toBe("TF_VAR_api_token");
      expect(json.output.operator_token_variable.value).toBe("TF_VAR_operator_token");
      expect(JSON.stringify(json.output)).not.toContain("var.");
      expect(json.variable.operator_token.sensitive).toBe(true);
    }
  });

  it("print the next commands with this stack's URL and token source", () => {
    expect(shipped.dev.output.notes.value).toContain(`export U=http://localhost:8080 T="$(${readOutputCommand("dev", "api_token")})"`);
    expect(shipped.prod.output.notes.value).toContain('export U=https://jobs.example.com T="$TF_VAR_api_token" OT="$TF_VAR_operator_token"');
    // `${` would be a Terraform interpolation inside the notes string.
    for (const json of Object.values(shipped)) expect(json.output.notes.value).not.toContain("${");
  });

  it("hand the api the operator token from the same secret source as the api token", () => {
    const [api] = (Object.values(shipped.dev.resource.docker_container) as Json[]).filter((c) => c.name === "jobstack-dev-api") as Json[];
    const env = Object.fromEntries((api.env as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));
    expect(env.OPERATOR_TOKEN).toMatch(/^\$\{random_password\.[^.]+\.result\}$/);
    expect(env.OPERATOR_TOKEN).toBe(shipped.dev.output.operator_token.value);
    const [worker] = (Object.values(shipped.dev.resource.docker_container) as Json[]).filter((c) => c.name === "jobstack-dev-worker") as Json[];
    expect((worker.env as string[]).some((e) => e.startsWith("OPERATOR_TOKEN="))).toBe(false);
    const deployment = (Object.values(shipped.prod.resource.kubernetes_deployment_v1) as Json[]).find((d) => d.metadata.name === "api") as Json;
    const envVars = deployment.spec.template.spec.container[0].env as Json[];
    expect(envVars.find((e) => e.name === "OPERATOR_TOKEN").value_from.secret_key_ref.key).toBe("operator-token");
  });
});

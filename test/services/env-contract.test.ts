/**
 * The environment contract, end to end: every shipped environment (dev, staging, prod, and a
 * JVM-worker prod) is synthesized with every preset, each api, worker and migrate container's
 * environment is read back out of the Terraform JSON (Docker `env` lines or a Swarm service's
 * env map, Kubernetes `env` entries), and fed to the services' own loader
 * (services/core/config.ts). A variable the producer renders in a shape the services refuse
 * fails here, and so does one the services do not read at all (services/core/env-contract.ts
 * lists both kinds of names).
 *
 * Secrets are not in the synthesized JSON: Terraform fills them in at apply time. Each `${…}`
 * interpolation (a generated password, a token) is replaced by a placeholder derived from the
 * expression itself, so two different secrets (API_TOKEN and OPERATOR_TOKEN) stay different,
 * as they are once applied. A Kubernetes `secretKeyRef` is resolved to the Secret's data in the
 * same JSON, whose values get the same treatment: the URL around the password is still checked.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { listPresets } from "../../presets/index.js";
import { loadServiceConfig, type ServiceRole } from "../../services/core/config.js";
import { RUNTIME_ENV_NAMES, SERVICE_ENV_NAMES, serviceEnvSchema } from "../../services/core/env-contract.js";
import { listEnvironments, loadEnvironment, type ResolvedEnvironment } from "../../stacks/config/index.js";
import { environmentVariant, resources, workloads, type Json } from "../stacks/kubernetes/support.js";
import { synthEnv } from "../stacks/support.js";

const ROLES: readonly ServiceRole[] = ["api", "worker", "migrate"];

/** A stand-in for one Terraform interpolation: URL-safe, 25 characters, one per expression. */
const placeholder = (expression: string) => `p${createHash("sha256").update(expression).digest("hex").slice(0, 24)}`;
const withPlaceholders = (value: string) => value.replace(/\$\{[^}]*\}/g, placeholder);

interface Container {
  readonly target: "docker" | "kubernetes";
  readonly role: ServiceRole;
  readonly env: Record<string, string>;
}

const serviceLabel = (body: Json) => ((body.labels ?? []) as Json[]).find((l) => l.label === "com.jobstack.service")?.value as ServiceRole | undefined;

/** Plain containers carry `NAME=value` lines; Swarm services (staging) a map in their task spec. */
function dockerContainers(json: Json): Container[] {
  const containers = resources(json, "docker_container").map(({ body }) => ({
    role: serviceLabel(body),
    entries: ((body.env ?? []) as string[]).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
  }));
  const services = resources(json, "docker_service").map(({ body }) => ({
    role: serviceLabel(body),
    entries: Object.entries((body.task_spec.container_spec.env ?? {}) as Record<string, string>),
  }));
  return [...containers, ...services].flatMap(({ role, entries }) =>
    role && ROLES.includes(role) ? [{ target: "docker" as const, role, env: Object.fromEntries(entries.map(([k, v]) => [k, withPlaceholders(v)])) }] : [],
  );
}

function kubernetesContainers(json: Json): Container[] {
  const secretData = (ref: Json): string => {
    const id = /^\$\{kubernetes_secret_v1\.([^.]+)\.metadata\[0\]\.name\}$/.exec(ref.name)?.[1];
    const secret = resources(json, "kubernetes_secret_v1").find((r) => r.id === id);
    const value = secret?.body.data?.[ref.key] as string | undefined;
    if (value === undefined) throw new Error(`secretKeyRef ${ref.name}/${ref.key} not found in the synthesized JSON`);
    return value;
  };
  return workloads(json).flatMap((w) => {
    if (!ROLES.includes(w.name as ServiceRole)) return [];
    const container = w.pod.container[0];
    // envFrom would bring variables this reading does not see: fail rather than pass vacuously.
    expect(container.env_from, `${w.name}: envFrom`).toBeUndefined();
    const env: Record<string, string> = {};
    for (const e of (container.env ?? []) as Json[]) {
      if (e.value !== undefined) env[e.name] = withPlaceholders(e.value);
      else if (e.value_from?.secret_key_ref) env[e.name] = withPlaceholders(secretData(e.value_from.secret_key_ref));
      else throw new Error(`${w.name}: ${e.name} comes from ${JSON.stringify(e.value_from)}, which this test cannot resolve`);
    }
    return [{ target: "kubernetes" as const, role: w.name as ServiceRole, env }];
  });
}

function containers(env: ResolvedEnvironment): Container[] {
  const { json } = synthEnv(env);
  return [...dockerContainers(json), ...kubernetesContainers(json)];
}

const KNOWN: ReadonlySet<string> = new Set([...SERVICE_ENV_NAMES, ...RUNTIME_ENV_NAMES]);
const jvmProd = () => environmentVariant("prod", "prod-jvm", (doc) => void (doc.worker = { ...doc.worker, runtime: "jvm" }));

const cases = [
  ...listEnvironments().flatMap((name) => listPresets().map((preset) => [`${name} with preset ${preset}`, () => loadEnvironment(name, preset)] as const)),
  ["prod with a JVM worker", jvmProd] as const,
];

describe.each(cases)("%s", (_label, load) => {
  const rendered = containers(load());

  it("renders an api, a worker and a migrate container", () => {
    for (const role of ROLES) expect(rendered.some((c) => c.role === role), role).toBe(true);
  });

  it("gives each one an environment the services' loader accepts for its role", () => {
    for (const { target, role, env } of rendered) {
      const label = `${target} ${role}`;
      let config;
      try {
        config = loadServiceConfig(role, env);
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
      }
      // Spot checks that the values arrive as the producer meant them, not only that they parse.
      if (env.DB_POOL_SIZE !== undefined) expect(config.dbPoolSize, label).toBe(Number(env.DB_POOL_SIZE));
      if (env.JOB_QUEUE !== undefined) expect(config.jobQueue, label).toBe(env.JOB_QUEUE);
      if (role === "api") expect(config.apiToken, label).not.toBe(config.operatorToken);
    }
  });

  it("sets no variable the services or their runtime do not read", () => {
    for (const { target, role, env } of rendered) {
      expect(Object.keys(env).filter((name) => !KNOWN.has(name)), `${target} ${role}`).toEqual([]);
    }
  });
});

describe("the contract itself", () => {
  it("names every variable once and knows the runtime's apart", () => {
    expect(new Set(SERVICE_ENV_NAMES).size).toBe(SERVICE_ENV_NAMES.length);
    expect(Object.keys(serviceEnvSchema.shape)).toEqual([...SERVICE_ENV_NAMES]);
    expect(RUNTIME_ENV_NAMES.filter((n) => (SERVICE_ENV_NAMES as readonly string[]).includes(n))).toEqual([]);
  });
});

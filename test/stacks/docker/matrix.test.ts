/**
 * Every Docker environment × every shipped preset, checked on the synthesized Terraform JSON:
 * the five services with health checks, no backend port published, Redis eviction and maxmemory
 * as derived, protected volumes, no secret literal, every image tagged, limits everywhere — and
 * the project's own policy rules (stacks/policy, what `jobstack validate` runs) find nothing.
 */
import { describe, expect, it } from "vitest";
import { listPresets } from "../../../presets/index.js";
import { listEnvironments, loadEnvironment } from "../../../stacks/config/index.js";
import { checkStacks, formatViolation } from "../../../stacks/policy/registry.js";
import { CORE_SERVICES, DATA_SERVICES } from "../../../stacks/topology.js";
import { argsOf, envOf, healthcheckOf, REFERENCE, resources, synthNamed, workloadsOf, type Json } from "./helpers.js";

const DOCKER_ENVS = listEnvironments().filter((name) => loadEnvironment(name).environment.target === "docker");
const PRESETS = listPresets();
const MIB = 1024 * 1024;
const SECRET_NAME = /PASS|PASSWORD|TOKEN|SECRET|AUTH/i;
/** `scheme://user:<password>@host`: the password must be a whole Terraform reference. */
const URL_USERINFO = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:([^@\s]*)@/gi;

function* strings(value: unknown, path: string[] = []): Generator<[string[], string]> {
  if (typeof value === "string") yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...path, String(i)]);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) yield* strings(v, [...path, k]);
}

it("covers at least the shipped bridge and overlay environments and every preset", () => {
  expect(DOCKER_ENVS).toEqual(expect.arrayContaining(["dev", "staging"]));
  expect(PRESETS.length).toBeGreaterThanOrEqual(5);
});

describe.each(DOCKER_ENVS)("environment %s", (envName) => {
  describe.each(PRESETS)("preset %s", (preset) => {
    const s = synthNamed(envName, preset);
    const { json, env } = s;
    const swarm = env.environment.docker!.network.driver === "overlay";

    it("renders all five services and the migration, each core service with a health check", () => {
      for (const name of [...CORE_SERVICES, "migrate"]) expect(workloadsOf(json, name).length, name).toBeGreaterThan(0);
      for (const name of CORE_SERVICES) {
        for (const w of workloadsOf(json, name)) {
          const hc = healthcheckOf(w);
          expect(hc?.test?.length, `${name} health check`).toBeGreaterThan(1);
          expect(hc!.interval).toBe(`${env.preset.healthCheck.intervalSeconds}s`);
        }
      }
      expect(Object.keys(resources(json, swarm ? "docker_container" : "docker_service"))).toHaveLength(0);
    });

    it("publishes the api's port only", () => {
      for (const [name, body] of Object.entries({ ...resources(json, "docker_container"), ...resources(json, "docker_service") })) {
        const role = workloadsOf(json, "api").includes(body) ? "api" : name;
        const published = [...((body.ports ?? []) as Json[]), ...((body.endpoint_spec?.ports ?? []) as Json[])];
        if (role === "api") expect(published.length).toBe(1);
        else expect(published, name).toEqual([]);
      }
      for (const data of DATA_SERVICES) for (const w of workloadsOf(json, data)) expect(w.publish_all_ports).toBeUndefined();
    });

    it("runs Redis with allkeys-lru and the derived maxmemory, inside its container", () => {
      const [redis] = workloadsOf(json, "redis");
      const args = argsOf(redis!);
      expect(args[args.indexOf("--maxmemory-policy") + 1]).toBe("allkeys-lru");
      expect(args[args.indexOf("--maxmemory") + 1]).toBe(String(env.derived.redis.maxmemoryBytes));
      expect(env.derived.redis.maxmemoryBytes).toBeLessThan(env.preset.redis.memoryMiB * MIB);
    });

    it("keeps data on protected, named volumes", () => {
      const volumes = Object.entries(resources(json, "docker_volume"));
      expect(volumes).toHaveLength(3);
      for (const [key, v] of volumes) {
        expect(v.lifecycle, key).toEqual({ prevent_destroy: true });
        expect(v.name).toMatch(new RegExp(`^jobstack-${envName}-`));
      }
      for (const data of DATA_SERVICES) {
        const [w] = workloadsOf(json, data);
        const mounted = swarm
          ? (w!.task_spec.container_spec.mounts as Json[]).filter((m) => m.type === "volume").map((m) => m.source)
          : (w!.volumes as Json[]).map((v) => v.volume_name);
        expect(mounted.length, data).toBe(1);
        expect(mounted[0]).toMatch(/^\$\{docker_volume\.[^.]+\.name\}$/);
      }
    });

    it("has no secret literal anywhere", () => {
      for (const name of [...CORE_SERVICES, "migrate"]) {
        for (const w of workloadsOf(json, name)) {
          for (const [k, v] of Object.entries(envOf(w))) {
            if (SECRET_NAME.test(k) && !/_URL$/.test(k)) expect(v, `${name} ${k}`).toMatch(REFERENCE);
          }
        }
      }
      for (const [path, value] of strings(json)) {
        for (const m of value.matchAll(URL_USERINFO)) expect(m[1], path.join(".")).toMatch(REFERENCE);
        const key = path.at(-1) ?? "";
        if (/password|token|secret/i.test(key)) expect(value, path.join(".")).toMatch(REFERENCE);
      }
      // Passwords come from exactly one source: variables, or generated values in dev.
      if (env.environment.secrets.generateDevelopmentSecrets) expect(json.variable).toBeUndefined();
      else for (const v of Object.values(json.variable as Record<string, Json>)) expect(v.sensitive).toBe(true);
    });

    it("tags every image and runs only declared images", () => {
      const images = resources(json, "docker_image");
      for (const img of Object.values(images)) {
        expect(img.name).toMatch(/^[^@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[a-f0-9]{64})$/);
        expect(img.name).not.toMatch(/:latest$/);
      }
      const refs = new Set(Object.keys(images));
      for (const c of Object.values(resources(json, "docker_container"))) expect(refs.has(/^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(c.image)?.[1] ?? "")).toBe(true);
      for (const sv of Object.values(resources(json, "docker_service"))) {
        expect(refs.has(/^\$\{docker_image\.([^.]+)\.name\}$/.exec(sv.task_spec.container_spec.image)?.[1] ?? "")).toBe(true);
      }
    });

    it("limits memory and CPU of every container and task", () => {
      for (const c of Object.values(resources(json, "docker_container"))) {
        expect(c.memory).toBeGreaterThan(0);
        expect(Number(c.cpus)).toBeGreaterThan(0);
      }
      for (const sv of Object.values(resources(json, "docker_service"))) {
        expect(sv.task_spec.resources.limits.memory_bytes).toBeGreaterThan(0);
        expect(sv.task_spec.resources.limits.nano_cpus).toBeGreaterThan(0);
      }
    });

    it("passes every policy rule", () => {
      const [report] = checkStacks([{ name: envName, file: `${envName}/cdk.tf.json`, json }]);
      expect(report!.violations.map(formatViolation)).toEqual([]);
    });
  });
});

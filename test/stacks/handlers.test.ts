/**
 * The handler list reaches every deployment: JOB_HANDLER_MODULES on the api and the worker of
 * dev (Docker bridge containers), staging (Swarm services) and prod (Kubernetes Deployments), and
 * dev's image build (which copies handlers/ and examples/) rebuilds when a handler changes.
 */
import { describe, expect, it } from "vitest";
import { envOf, resources, workloadsOf } from "./docker/helpers.js";
import { environmentVariant, workloads } from "./kubernetes/support.js";
import { synthEnv, type Json } from "./support.js";

const LIST = ["./examples/handlers/send-invoice.ts", "@acme/billing-jobs"];
const variant = (base: string) => environmentVariant(base, base, (doc) => void (doc.handlers = LIST));

describe("handler modules in the synthesized stacks", () => {
  it.each(["dev", "staging"])("%s: the api and worker containers get JOB_HANDLER_MODULES, the migration does not", (name) => {
    const env = variant(name);
    expect(env.handlers.from).toBe("environment");
    const modules = env.handlers.modules.join(",");
    expect(modules.startsWith("./examples/handlers/send-invoice.ts")).toBe(true);
    const { json } = synthEnv(env);
    for (const service of ["api", "worker"]) {
      const found = workloadsOf(json, service);
      expect(found.length).toBeGreaterThan(0);
      for (const w of found) expect(envOf(w).JOB_HANDLER_MODULES).toBe(modules);
    }
    for (const w of workloadsOf(json, "migrate")) expect(envOf(w).JOB_HANDLER_MODULES).toBeUndefined();
  });

  it("prod: the api and worker Deployments get JOB_HANDLER_MODULES", () => {
    const env = variant("prod");
    const json = synthEnv(env).json;
    const byName = new Map(workloads(json).map((w) => [w.name, w]));
    for (const name of ["api", "worker"]) {
      const w = [...byName.entries()].find(([n]) => n.endsWith(name))?.[1];
      expect(w, name).toBeDefined();
      const env_ = (w!.pod.container[0].env as Json[]).find((e) => e.name === "JOB_HANDLER_MODULES");
      expect(env_?.value).toBe(env.handlers.modules.join(","));
    }
  });

  it("dev: the image build hashes the handler folders, so changing a handler rebuilds it", () => {
    const { json } = synthEnv(variant("dev"));
    const images = Object.values(resources(json, "docker_image")).filter((i) => i.build);
    expect(images).toHaveLength(1);
    expect(images[0]!.triggers.sources).toMatch(/services\/\*\*,handlers\/\*\*,examples\/\*\*/);
  });
});

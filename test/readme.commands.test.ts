/**
 * The README's commands name things that exist. Every shell command in a ```sh block and every
 * inline `docker …` / `kubectl …` / `npm run deploy|diff|output|destroy -- …` / `terraform …` / `curl …` is read, and
 * each name in it — container, Swarm service, volume, Deployment, StatefulSet, Job, Service,
 * namespace, label, stack, output, variable, api route — is checked against the synthesized
 * stacks (and docs/openapi.json for routes). Renaming something in the stacks without the
 * README fails here, naming the line.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { listEnvironments, loadEnvironment } from "../stacks/config/index.js";
import { DATA_NODE_LABEL, LOG_OPTIONS } from "../stacks/docker/workload.js";
import { environmentVariant, type Json } from "./stacks/kubernetes/support.js";
import { synthEnv } from "./stacks/support.js";
import { ROOT } from "../harness/jobstack.js";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const ENVS = listEnvironments();
const stacks: Record<string, Json> = Object.fromEntries(ENVS.map((name) => [name, synthEnv(loadEnvironment(name)).json]));
const openapiPaths = Object.keys((JSON.parse(readFileSync(path.join(ROOT, "docs/openapi.json"), "utf8")) as { paths: object }).paths);

/** The text of a `## …` section, up to the next one. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = README.indexOf("\n## ", start + 4);
  return README.slice(start, end < 0 ? undefined : end);
}

const fenced = (text: string, lang: string) => [...text.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
const DAY2 = section("Day 2");
const TOOLS = /^(?:(?:docker|kubectl|terraform|curl)\b|npm run (?:deploy|diff|output|destroy) -- )/;
/** Every command line of the README's sh blocks, and its inline commands. */
const commands = [
  ...fenced(README, "sh").flatMap((block) => block.split("\n")),
  ...[...README.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).filter((code) => TOOLS.test(code)),
]
  .map((line) => line.replace(/^\$ /, "").replace(/\s+#.*$/, "").trim())
  .filter((line) => line.length > 0 && !line.startsWith("#"));

// ── what the stacks create ──────────────────────────────────────────────────────────────

const resourcesOf = (json: Json, type: string): Json[] => Object.values(json.resource?.[type] ?? {});
const namesOf = (json: Json, type: string) => new Set(resourcesOf(json, type).map((r) => (r.metadata ? r.metadata.name : r.name) as string));

/** Every label key=value on any resource of a stack: Docker `{label, value}` lists and Kubernetes maps. */
function labelsOf(json: Json): Set<string> {
  const found = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "labels" && Array.isArray(value)) for (const l of value as Json[]) found.add(`${l.label}=${l.value}`);
      else if (key === "labels" && value && typeof value === "object") for (const [k, v] of Object.entries(value)) found.add(`${k}=${v}`);
      walk(value);
    }
  };
  walk(json.resource);
  return found;
}

const docker = {
  containers: namesOf(stacks.dev, "docker_container"),
  services: namesOf(stacks.staging, "docker_service"),
  objects: new Set(
    ["dev", "staging"].flatMap((env) => ["docker_container", "docker_service", "docker_volume", "docker_network"].flatMap((t) => [...namesOf(stacks[env], t)])),
  ),
  labels: new Set([...labelsOf(stacks.dev), ...labelsOf(stacks.staging)]),
};
const prod = stacks.prod;
const namespace = resourcesOf(prod, "kubernetes_namespace_v1")[0]!.metadata.name as string;
const kube: Record<string, Set<string>> = {
  deployment: namesOf(prod, "kubernetes_deployment_v1"),
  statefulset: namesOf(prod, "kubernetes_stateful_set_v1"),
  job: namesOf(prod, "kubernetes_job_v1"),
  svc: namesOf(prod, "kubernetes_service_v1"),
};
kube.deploy = kube.deployment!;
const kubeLabels = labelsOf(prod);
const replicasOf = (name: string) =>
  Number(resourcesOf(prod, "kubernetes_deployment_v1").find((d) => d.metadata.name === name)!.spec.replicas);

const lines = (pattern: RegExp) => commands.filter((c) => pattern.test(c));
const all = (text: string, pattern: RegExp) => [...text.matchAll(pattern)];

describe("README: commands name what the stacks create", () => {
  it("has a Day 2 section covering plan, upgrade, rollback, logs, scaling, rotation and backups for every target", () => {
    for (const needed of [
      /npm run diff -- \w+/, /rollout undo deployment\/api/, /docker service rollback/,
      /^docker logs /, /^docker service logs /, /^kubectl -n \S+ logs /,
      /scale deployment\/worker/, /TF_VAR_operator_token/, /alter role jobstack password/,
      /^docker exec jobstack-dev-postgres pg_dump /, /^docker exec -i jobstack-dev-postgres pg_restore /,
      /^docker exec \$PG pg_dump /, /^docker exec -i \$PG pg_restore /,
      /exec statefulset\/postgres -- pg_dump /, /exec -i statefulset\/postgres -- pg_restore /,
    ]) {
      expect(commands.filter((c) => DAY2.includes(c)).some((c) => needed.test(c)), String(needed)).toBe(true);
    }
    expect(fenced(DAY2, "sh").length).toBeGreaterThanOrEqual(5);
  });

  it("names only Docker containers, Swarm services, volumes and networks the stacks create", () => {
    const checked = commands.flatMap((c) => all(c, /\bjobstack-(?:dev|staging)-[a-z][a-z-]*[a-z]\b/g).map((m) => [c, m[0]] as const));
    expect(checked.length).toBeGreaterThan(15);
    for (const [line, name] of checked) expect(docker.objects.has(name), `${name} in: ${line}`).toBe(true);
    for (const line of lines(/^docker (logs|exec|stop|start|restart)\b/)) {
      const names = line.split(/\s+/).filter((w) => /^jobstack-[a-z-]+$/.test(w));
      for (const name of names) expect(docker.containers.has(name), `container ${name} in: ${line}`).toBe(true);
    }
    for (const line of lines(/^docker service (logs|ps|rollback|scale|update)\b/)) {
      const names = line.split(/\s+/).filter((w) => w.startsWith("jobstack-")).map((w) => w.replace(/=.*$/, ""));
      expect(names.length, line).toBeGreaterThan(0);
      for (const name of names) expect(docker.services.has(name), `Swarm service ${name} in: ${line}`).toBe(true);
    }
  });

  it("filters by Docker labels the stacks set (and Swarm's own service-name label on a stack's service)", () => {
    const filters = commands.flatMap((c) => all(c, /--filter label=([\w.-]+)=([\w.-]+)/g).map((m) => [c, m[1]!, m[2]!] as const));
    expect(filters.length).toBeGreaterThanOrEqual(4);
    for (const [line, key, value] of filters) {
      if (key === "com.docker.swarm.service.name") expect(docker.services.has(value), line).toBe(true);
      else expect(docker.labels.has(`${key}=${value}`), `${key}=${value} in: ${line}`).toBe(true);
    }
    expect(DAY2).toContain(`${LOG_OPTIONS["max-file"]} × ${LOG_OPTIONS["max-size"].replace("m", " MB")}`);
    // The Swarm node label the data services are pinned to (placement constraint).
    const nodeLabels = commands.flatMap((c) => all(c, /--label-add ([\w.-]+)=true/g).map((m) => m[1]!));
    expect(nodeLabels.length).toBeGreaterThan(0);
    for (const label of nodeLabels) expect(label).toBe(DATA_NODE_LABEL);
    expect(JSON.stringify(stacks.staging.resource.docker_service)).toContain(`node.labels.${DATA_NODE_LABEL} == true`);
  });

  it("runs kubectl in the stack's namespace, on objects and labels it creates", () => {
    const kubectl = lines(/^kubectl\b/);
    expect(kubectl.length).toBeGreaterThan(10);
    for (const line of kubectl) {
      expect(line, line).toMatch(new RegExp(`^kubectl -n ${namespace} `));
      for (const m of all(line, /\b(deployment|deploy|statefulset|job|svc)\/([a-z0-9-]+)/g)) {
        expect(kube[m[1]!]!.has(m[2]!), `${m[1]}/${m[2]} in: ${line}`).toBe(true);
      }
      for (const m of all(line, / -l (\S+)/g)) {
        for (const pair of m[1]!.split(",")) expect(kubeLabels.has(pair), `label ${pair} in: ${line}`).toBe(true);
      }
    }
  });

  it("scales back to the replicas the prod stack runs", () => {
    const scaled = lines(/^kubectl -n \S+ scale deployment\/(api|worker) --replicas=\d+$/);
    expect(scaled.length).toBe(2);
    for (const line of scaled) {
      const [, name, n] = /deployment\/(\w+) --replicas=(\d+)/.exec(line)!;
      expect(Number(n), line).toBe(replicasOf(name!));
    }
  });

  it("names stacks, outputs and variables that exist", () => {
    for (const line of lines(/^npm run (diff|deploy|output|destroy) -- /)) {
      const env = /^npm run \w+ -- (\S+)/.exec(line)?.[1];
      if (env !== "<env>") expect(ENVS, line).toContain(env); // `<env>` is the README's placeholder
    }
    const outputs = commands.flatMap((c) => all(c, /terraform -chdir=cdktf\.out\/stacks\/(\w+) output -raw (\w+)/g).map((m) => [c, m[1]!, m[2]!] as const));
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const [line, env, output] of outputs) expect(Object.keys(stacks[env]!.output), line).toContain(output);
    for (const env of ENVS) expect(README, `api_url of ${env}`).toContain(stacks[env]!.output.api_url.value);
    const variables = new Set(["staging", "prod"].flatMap((env) => Object.keys(stacks[env]!.variable)));
    for (const m of all(README, /TF_VAR_(\w+)/g)) expect(variables.has(m[1]!), m[0]).toBe(true);
    const replaced = /grep '(random_password\.\*operator-token)'/.exec(DAY2)?.[1];
    const devPasswords = Object.keys(stacks.dev.resource.random_password).map((id) => `random_password.${id}`);
    expect(devPasswords.filter((a) => new RegExp(replaced!).test(a))).toHaveLength(1);
  });

  it("curls routes the api serves", () => {
    const routes = commands.flatMap((c) => all(c, /\$U(\/[\w/.$<>-]*)/g).map((m) => m[1]!));
    expect(routes.length).toBeGreaterThan(3);
    for (const route of routes.map((r) => r.replace(/\$ID|<id>/, "{id}"))) {
      expect(openapiPaths, route).toContain(route);
    }
  });

  it("shows overrides that resolve for the environments they are meant for", () => {
    const blocks = fenced(DAY2, "yaml");
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      // Each block opens with a comment naming the file it belongs in.
      const base = /^# stacks\/environments\/(\w+)\.yaml/.exec(block)?.[1];
      expect(ENVS, block).toContain(base);
      const { overrides } = parse(block) as { overrides: Json };
      const env = environmentVariant(base!, `${base}-scaled`, (doc) => (doc.overrides = { ...doc.overrides, ...overrides }));
      expect(env.preset.worker.replicas).toBe(overrides.worker.replicas);
    }
  });
});

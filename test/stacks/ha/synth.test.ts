/**
 * What prod synthesizes for high availability, and what the external-service options change:
 * a three-node RabbitMQ cluster formed by Kubernetes peer discovery, api and worker spread over
 * zones and nodes, and — for every service declared external — no StatefulSet, URLs pointing at
 * the declared host, and egress admitted to its port only. Each variant passes every policy rule,
 * and `explain` and `graph` show the external services as such.
 */
import { describe, expect, it } from "vitest";
import { explainRows } from "../../../cli/commands/explain.js";
import { toMermaid, topologyGraph } from "../../../stacks/graph/index.js";
import { checkStacks, formatViolation } from "../../../stacks/policy/registry.js";
import { environmentVariant, policyEdges, prod, resourceNamed, resources, synthEnvironment, workloads, type Json } from "../kubernetes/support.js";

const external = {
  postgres: { host: "db.internal.example.com", port: 5433, database: "jobs", user: "svc_jobs", sslMode: "verify-full", maxConnections: 800, cidr: "10.40.0.0/16" },
  rabbitmq: { host: "mq.internal.example.com", vhost: "/jobs", user: "svc_jobs" },
  redis: { host: "cache.internal.example.com", port: 6380 },
};
type Which = keyof typeof external;

function variant(which: readonly Which[]) {
  return environmentVariant("prod", `prod-ext-${which.join("-") || "none"}`, (doc) => {
    doc.external = Object.fromEntries(which.map((w) => [w, external[w]]));
    if (which.includes("rabbitmq")) delete doc.rabbitmq;
  });
}
const violations = (name: string, json: Json) => checkStacks([{ name, file: `${name}/cdk.tf.json`, json }]).flatMap((r) => r.violations).map(formatViolation);
const secretData = (json: Json): Record<string, string> => resourceNamed(json, "kubernetes_secret_v1", "jobstack-secrets").body.data;

describe("prod: a three-node RabbitMQ cluster", () => {
  const json = synthEnvironment(prod().env);
  const set = resourceNamed(json, "kubernetes_stateful_set_v1", "rabbitmq").body;
  const pod = set.spec.template.spec;
  const main = (pod.container as Json[]).find((c) => c.name === "rabbitmq");

  it("runs three nodes, started in parallel, on distinct hosts, spread over zones", () => {
    expect(set.spec.replicas).toBe("3");
    expect(set.spec.pod_management_policy).toBe("Parallel");
    expect(pod.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution).toEqual([
      { topology_key: "kubernetes.io/hostname", label_selector: [{ match_labels: { "app.kubernetes.io/name": "rabbitmq", "app.kubernetes.io/part-of": "jobstack" } }] },
    ]);
    expect(pod.topology_spread_constraint[0]).toMatchObject({ topology_key: "topology.kubernetes.io/zone", max_skew: 1 });
    expect(resourceNamed(json, "kubernetes_pod_disruption_budget_v1", "rabbitmq").body.spec.min_available).toBe("2");
  });

  it("names each node on a headless Service that publishes not-ready pods; clients use a ClusterIP Service", () => {
    const nodes = resourceNamed(json, "kubernetes_service_v1", "rabbitmq-nodes").body.spec;
    expect(nodes).toMatchObject({ cluster_ip: "None", publish_not_ready_addresses: true });
    expect(set.spec.service_name).toContain("kubernetes_service_v1.");
    const client = resourceNamed(json, "kubernetes_service_v1", "rabbitmq").body.spec;
    expect(client.type).toBe("ClusterIP");
    expect(client.cluster_ip).toBeUndefined();
    const env = main.env as Json[];
    expect(env[0]).toEqual({ name: "MY_POD_NAME", value_from: { field_ref: { field_path: "metadata.name" } } });
    expect(env.find((e) => e.name === "RABBITMQ_NODENAME").value).toBe("rabbit@$(MY_POD_NAME).rabbitmq-nodes.jobstack-prod.svc.cluster.local");
    expect(env.find((e) => e.name === "RABBITMQ_USE_LONGNAME").value).toBe("true");
    expect(secretData(json)["amqp-url"]).toMatch(/@rabbitmq:5672$/);
    // The api reaches any node's management API through the same client Service.
    expect(client.port.map((p: Json) => `${p.name}:${p.port}`)).toEqual(["amqp:5672", "management:15672"]);
    expect(secretData(json)["rabbitmq-management-url"]).toMatch(/@rabbitmq:15672$/);
  });

  it("configures Kubernetes peer discovery by hostname and quorum queues on every node", () => {
    const conf = resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-cluster-conf").body.data["30-cluster.conf"] as string;
    for (const line of [
      "cluster_formation.peer_discovery_backend = k8s",
      "cluster_formation.k8s.address_type = hostname",
      "cluster_formation.k8s.service_name = rabbitmq-nodes",
      "cluster_formation.k8s.hostname_suffix = .rabbitmq-nodes.jobstack-prod.svc.cluster.local",
    ]) {
      expect(conf).toContain(line);
    }
    expect(resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-plugins").body.data.enabled_plugins).toContain("rabbitmq_peer_discovery_k8s");
    expect(resourceNamed(json, "kubernetes_config_map_v1", "rabbitmq-advanced").body.data["advanced.config"]).toBe("[{rabbit, [{quorum_cluster_size, 3}]}].\n");
  });

  it("lets peer discovery get endpoints and nothing else, under the nodes' own ServiceAccount", () => {
    expect(resources(json, "kubernetes_role_v1").map((r) => r.body.rule)).toEqual([[{ api_groups: [""], resources: ["endpoints"], verbs: ["get"] }]]);
    const binding = resources(json, "kubernetes_role_binding_v1")[0]!.body;
    expect(binding.subject[0].kind).toBe("ServiceAccount");
    expect(pod.automount_service_account_token).toBe(true);
    expect(pod.service_account_name).toBe(`\${${`kubernetes_service_account_v1.${resourceNamed(json, "kubernetes_service_account_v1", "rabbitmq").id}`}.metadata[0].name}`);
    expect(resources(json, "kubernetes_cluster_role_v1")).toEqual([]);
  });

  it("shares one generated Erlang cookie from a Secret, copied owner-only by an init container", () => {
    const cookie = resourceNamed(json, "kubernetes_secret_v1", "rabbitmq-erlang-cookie").body;
    expect(cookie.data.cookie).toMatch(/^\$\{random_password\..*\.result\}$/);
    expect(resources(json, "random_password")).toHaveLength(1);
    const init = pod.init_container[0];
    expect(init.command.join(" ")).toContain("chmod 600 /var/lib/rabbitmq/.erlang.cookie");
    expect(init.volume_mount.map((m: Json) => m.name).sort()).toEqual(["erlang-cookie", "rabbitmq-data"]);
    expect((pod.volume as Json[]).find((v) => v.name === "erlang-cookie").secret.secret_name).toContain("kubernetes_secret_v1.");
  });

  it("admits epmd, distribution and CLI ports between RabbitMQ pods only", () => {
    const edges = policyEdges(json);
    const cluster = [...edges.ingress].filter((e) => /:(4369|25672|35672)/.test(e)).sort();
    expect(cluster).toEqual(["rabbitmq->rabbitmq:25672/TCP", "rabbitmq->rabbitmq:35672/TCP-35682", "rabbitmq->rabbitmq:4369/TCP"]);
    expect([...edges.egress].filter((e) => e.startsWith("rabbitmq->")).sort()).toEqual([
      "rabbitmq->anywhere:443/TCP",
      "rabbitmq->anywhere:6443/TCP",
      "rabbitmq->rabbitmq:25672/TCP",
      "rabbitmq->rabbitmq:35672/TCP-35682",
      "rabbitmq->rabbitmq:4369/TCP",
    ]);
  });

  it("spreads api and worker over zones and nodes, each with a PDB", () => {
    for (const name of ["api", "worker"]) {
      const tpl = resourceNamed(json, "kubernetes_deployment_v1", name).body.spec.template.spec;
      expect(tpl.topology_spread_constraint.map((c: Json) => `${c.topology_key}:${c.when_unsatisfiable}`)).toEqual([
        "topology.kubernetes.io/zone:ScheduleAnyway",
        "kubernetes.io/hostname:ScheduleAnyway",
      ]);
      expect(resourceNamed(json, "kubernetes_pod_disruption_budget_v1", name)).toBeDefined();
    }
  });

  it("passes every policy rule", () => {
    expect(violations("prod", json)).toEqual([]);
  });
});

describe.each<readonly Which[]>([["postgres"], ["rabbitmq"], ["redis"], ["postgres", "rabbitmq", "redis"]])("prod with external %j", (...which) => {
  const env = variant(which);
  const json = synthEnvironment(env);
  const sets = workloads(json).filter((w) => w.kind === "StatefulSet").map((w) => w.name).sort();

  it("deploys none of the external services and points every URL at the declared hosts", () => {
    expect(sets).toEqual(["postgres", "rabbitmq", "redis"].filter((s) => !which.includes(s as Which)));
    const data = secretData(json);
    if (which.includes("postgres")) {
      expect(data["database-url"]).toMatch(/^postgres:\/\/svc_jobs:\$\{replace\(urlencode\(var\.postgres_password\), "\+", "%20"\)\}@db\.internal\.example\.com:5433\/jobs\?sslmode=verify-full$/);
      expect(data["postgres-password"]).toBeUndefined(); // no bundled server takes it
    }
    if (which.includes("redis")) expect(data["redis-url"]).toMatch(/^rediss:\/\/:\$\{replace\(urlencode\(var\.redis_password\), "\+", "%20"\)\}@cache\.internal\.example\.com:6380\/0$/);
    // An external RabbitMQ's management endpoint is not described: no RABBITMQ_MANAGEMENT_URL.
    expect(data["rabbitmq-management-url"] === undefined).toBe(which.includes("rabbitmq"));
    if (which.includes("rabbitmq")) expect(data["amqp-url"]).toMatch(/^amqps:\/\/svc_jobs:\$\{replace\(urlencode\(var\.rabbitmq_password\), "\+", "%20"\)\}@mq\.internal\.example\.com:5671\/%2Fjobs$/);
    // The passwords are still the same sensitive variables (and prod's Ingress certificate).
    expect(Object.keys(json.variable).sort()).toEqual(["api_token", "operator_token", "postgres_password", "rabbitmq_password", "redis_password", "tls_certificate", "tls_private_key"]);
  });

  it("admits egress to each external port only (to the cidr when given), and no edge to a pod that is not there", () => {
    const edges = policyEdges(json);
    for (const w of which) {
      const policy = resourceNamed(json, "kubernetes_network_policy_v1", `external-${w}-egress`).body;
      const rule = policy.spec.egress[0];
      const port = { postgres: "5433", rabbitmq: "5671", redis: "6380" }[w];
      expect(rule.ports).toEqual([{ port, protocol: "TCP" }]);
      expect(rule.to).toEqual(w === "postgres" ? [{ ip_block: { cidr: "10.40.0.0/16" } }] : undefined);
      expect(policy.spec.pod_selector.match_expressions[0].values).toEqual(w === "postgres" ? ["api", "worker", "migrate"] : ["api", "worker"]);
      expect([...edges.ingress].some((e) => e.includes(`->${w}:`))).toBe(false);
    }
  });

  it("passes every policy rule", () => {
    expect(violations(env.name, json)).toEqual([]);
  });

  it("shows the external services in explain (server tuning not applicable) and graph", () => {
    const rows = explainRows(env);
    for (const w of which) {
      expect(rows.find((r) => r.key === `external.${w}`)!.value).toContain(external[w].host);
      const tuning = rows.filter((r) => r.key.startsWith(`derived: ${w} `) && r.key !== "derived: postgres connections needed");
      expect(tuning.length).toBeGreaterThan(0);
      for (const r of tuning) expect(r.source, r.key).toMatch(/^not applicable: .* is external/);
    }
    if (which.includes("postgres")) {
      expect(rows.find((r) => r.key === "derived: postgres connections needed")!.source).toMatch(/≤ external\.postgres\.maxConnections 800$/);
      expect(rows.find((r) => r.key === "api.dbPoolSize")!.source).not.toMatch(/not applicable/);
    }
    const graph = topologyGraph({ name: env.name, file: "", json });
    for (const w of which) {
      expect(graph.services.find((s) => s.id === w)).toMatchObject({ external: true, kind: "external" });
      expect(graph.edges.some((e) => e.from === "api" && e.to === w)).toBe(true);
    }
    expect(toMermaid(graph)).toContain("external, not deployed");
  });
});

describe("the HA policy rules, each broken alone", () => {
  const base = synthEnvironment(prod().env);
  const copy = (): Json => structuredClone(base);
  const rabbitSet = (json: Json) => resourceNamed(json, "kubernetes_stateful_set_v1", "rabbitmq");

  it("quorum-replicas: a prod-tier quorum queue on one node", () => {
    const json = copy();
    rabbitSet(json).body.spec.replicas = "1";
    expect(violations("prod", json)).toEqual([
      expect.stringMatching(/^prod\/kubernetes_stateful_set_v1\..*: quorum-replicas — rabbitmq runs 1 node in tier prod .* need at least 3/),
    ]);
  });

  it("quorum-replicas: holds only in prod-like tiers", () => {
    const dev = synthEnvironment(
      environmentVariant("prod", "kind-dev", (doc) => {
        doc.tier = "dev";
        doc.rabbitmq = { replicas: 1 };
        doc.backend = { type: "local" };
      }),
    );
    expect(violations("kind-dev", dev).filter((v) => v.includes("quorum-replicas"))).toEqual([]);
  });

  it("rabbitmq-cluster: an even node count with a PDB that no longer keeps a majority", () => {
    const json = copy();
    rabbitSet(json).body.spec.replicas = "4";
    expect(violations("prod", json)).toEqual([
      expect.stringMatching(/rabbitmq-cluster — rabbitmq runs an even number of nodes \(4\)/),
      expect.stringMatching(/rabbitmq-cluster — no PodDisruptionBudget keeps a majority \(3 of 4\)/),
    ]);
  });

  it("rabbitmq-cluster: nodes allowed onto one host, and ordered pod management", () => {
    const json = copy();
    delete rabbitSet(json).body.spec.template.spec.affinity;
    delete rabbitSet(json).body.spec.pod_management_policy;
    expect(violations("prod", json)).toEqual([
      expect.stringMatching(/rabbitmq-cluster — rabbitmq nodes may share a host/),
      expect.stringMatching(/rabbitmq-cluster — rabbitmq uses pod_management_policy OrderedReady/),
    ]);
  });

  it("app-spread: a worker Deployment without spread constraints", () => {
    const json = copy();
    delete resourceNamed(json, "kubernetes_deployment_v1", "worker").body.spec.template.spec.topology_spread_constraint;
    expect(violations("prod", json)).toEqual([
      expect.stringMatching(/app-spread — worker pods are not spread over topology\.kubernetes\.io\/zone/),
      expect.stringMatching(/app-spread — worker pods are not spread over kubernetes\.io\/hostname/),
    ]);
  });

  it("app-spread: an api without a PodDisruptionBudget", () => {
    const json = copy();
    const pdb = resourceNamed(json, "kubernetes_pod_disruption_budget_v1", "api");
    delete json.resource.kubernetes_pod_disruption_budget_v1[pdb.id];
    expect(violations("prod", json)).toEqual([expect.stringMatching(/app-spread — api has no PodDisruptionBudget/)]);
  });
});

describe("dev (Docker) with an external Postgres", () => {
  const env = environmentVariant("dev", "dev-ext", (doc) => {
    doc.external = { postgres: { host: "db.dev.example.com", database: "jobs", user: "dev", sslMode: "require", maxConnections: 100 } };
  });
  const json = synthEnvironment(env);

  it("runs no Postgres container, points DATABASE_URL at the host, and graph draws it outside the network", () => {
    expect(Object.values(json.resource.docker_container as Record<string, Json>).map((c) => c.name).sort()).toEqual(
      ["jobstack-dev-ext-api", "jobstack-dev-ext-migrate", "jobstack-dev-ext-rabbitmq", "jobstack-dev-ext-redis", "jobstack-dev-ext-worker"],
    );
    const api = Object.values(json.resource.docker_container as Record<string, Json>).find((c) => c.name === "jobstack-dev-ext-api");
    expect((api.env as string[]).find((e) => e.startsWith("DATABASE_URL="))).toMatch(/@db\.dev\.example\.com:5432\/jobs\?sslmode=require&uselibpqcompat=true$/);
    const graph = topologyGraph({ name: "dev-ext", file: "", json });
    expect(graph.services.find((s) => s.id === "postgres")).toMatchObject({ external: true, image: "db.dev.example.com:5432" });
    expect(graph.edges.filter((e) => e.to === "postgres").map((e) => e.from).sort()).toEqual(["api", "migrate", "worker"]);
    expect(violations("dev-ext", json)).toEqual([]);
  });
});

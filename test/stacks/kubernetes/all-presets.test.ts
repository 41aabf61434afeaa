/**
 * Invariants of the synthesized prod stack under every shipped preset (what
 * `JOBSTACK_PRESET=<name> cdktf synth` produces): resources and probes on every container,
 * non-root pods, Secret values only by reference, NetworkPolicies admitting exactly the
 * topology's edges, and PVCs that outlive their pods.
 */
import { describe, expect, it } from "vitest";
import { listPresets } from "../../../presets/index.js";
import { PORTS, service, type ServiceSpec } from "../../../stacks/topology.js";
import { cpuQuantity, memoryQuantity, storageQuantity } from "../../../stacks/kubernetes/quantities.js";
import { policyEdges, prod, resources, secretNameRef, strings, synthEnvironment, workloads, type Json } from "./support.js";

const EXPECTED_EDGES = [
  `ingress->api:${PORTS.api}/TCP`,
  ...["api", "worker"].flatMap((from) => [
    `${from}->postgres:${PORTS.postgres}/TCP`,
    `${from}->redis:${PORTS.redis}/TCP`,
    `${from}->rabbitmq:${PORTS.rabbitmq}/TCP`,
  ]),
  // Only the api reads queue depths from RabbitMQ's management API.
  `api->rabbitmq:${PORTS.rabbitmqManagement}/TCP`,
  `migrate->postgres:${PORTS.postgres}/TCP`,
  // prod's RabbitMQ is a three-node cluster: epmd, distribution and the CLI tools' range.
  "rabbitmq->rabbitmq:4369/TCP",
  "rabbitmq->rabbitmq:25672/TCP",
  "rabbitmq->rabbitmq:35672/TCP-35682",
].sort();
const topologyEdge = (e: { from: string; to: string; port: number; endPort?: number }) => `${e.from}->${e.to}:${e.port}/TCP${e.endPort ? `-${e.endPort}` : ""}`;

const sorted = (s: Set<string>) => [...s].sort();

describe.each(listPresets())("prod with preset %s", (preset) => {
  const { topology } = prod(preset);
  const json = synthEnvironment(prod(preset).env);
  const all = workloads(json);
  const containers = all.flatMap((w) => (w.pod.container as Json[]).map((c) => ({ w, c, spec: service(topology, w.name as ServiceSpec["name"]) })));

  it("renders every topology service as exactly one workload", () => {
    expect(all.map((w) => `${w.kind}/${w.name}`).sort()).toEqual(
      ["Deployment/api", "Deployment/worker", "Job/migrate", "StatefulSet/postgres", "StatefulSet/rabbitmq", "StatefulSet/redis"].sort(),
    );
  });

  it("gives every container requests and limits equal to the preset's numbers", () => {
    expect(containers.length).toBe(6);
    for (const { c, spec } of containers) {
      const expected = { cpu: cpuQuantity(spec.resources.cpu), memory: memoryQuantity(spec.resources.memoryMiB) };
      expect(c.resources.limits, c.name).toEqual(expected);
      expect(c.resources.requests, c.name).toEqual(expected);
    }
  });

  it("probes every long-running container with the topology's checks and timings", () => {
    for (const { w, c, spec } of containers) {
      if (w.kind === "Job") {
        expect(c.liveness_probe).toBeUndefined();
        expect(w.resource.body.spec.active_deadline_seconds).toBeGreaterThan(0);
        continue;
      }
      const health = spec.health!;
      for (const [probe, check] of [
        [c.liveness_probe, health.liveness],
        [c.readiness_probe, health.readiness],
      ] as const) {
        expect(probe, `${c.name}`).toBeDefined();
        expect(probe.period_seconds).toBe(health.intervalSeconds);
        expect(probe.timeout_seconds).toBe(health.timeoutSeconds);
        expect(probe.failure_threshold).toBe(health.retries);
        if (check.kind === "http") expect(probe.http_get).toMatchObject({ path: check.path, port: String(check.port) });
        else expect(probe.exec.command).toEqual(check.command);
      }
      if (health.startPeriodSeconds > 0) {
        const s = c.startup_probe;
        expect(s.period_seconds * s.failure_threshold).toBeGreaterThanOrEqual(health.startPeriodSeconds + health.retries * health.intervalSeconds);
      }
    }
    const api = containers.find((x) => x.c.name === "api")!.c;
    expect(api.liveness_probe.http_get.path).toBe("/healthz");
    expect(api.readiness_probe.http_get.path).toBe("/readyz");
    const worker = containers.find((x) => x.c.name === "worker")!.c;
    expect(worker.liveness_probe.http_get.path).toBe("/healthz");
    expect(worker.readiness_probe.http_get.path).toBe("/readyz"); // fails at once; /healthz only after the liveness limit
  });

  it("runs every pod as non-root with no privileges and RuntimeDefault seccomp", () => {
    for (const w of all) {
      const ctx = w.pod.security_context;
      expect(ctx.run_as_non_root, w.name).toBe(true);
      expect(Number(ctx.run_as_user)).toBeGreaterThan(0);
      expect(ctx.seccomp_profile.type).toBe("RuntimeDefault");
      // Only RabbitMQ's nodes talk to the API server (peer discovery), under their own account.
      expect(w.pod.automount_service_account_token).toBe(w.name === "rabbitmq");
      if (w.name === "rabbitmq") expect(w.pod.service_account_name).toMatch(/kubernetes_service_account_v1\./);
      expect(w.pod.host_network ?? false).toBe(false);
      for (const c of w.pod.container as Json[]) {
        const s = c.security_context;
        expect(s.run_as_non_root, c.name).toBe(true);
        expect(Number(s.run_as_user)).toBeGreaterThan(0);
        expect(s.allow_privilege_escalation).toBe(false);
        expect(s.privileged).toBe(false);
        expect(s.capabilities.drop).toEqual(["ALL"]);
        expect(s.capabilities.add ?? []).toEqual([]);
        expect(s.seccomp_profile.type).toBe("RuntimeDefault");
      }
    }
  });

  it("gives read-only roots a writable emptyDir for every scratch path", () => {
    for (const { w, c, spec } of containers) {
      expect(c.security_context.read_only_root_filesystem).toBe(spec.security.readOnlyRootFilesystem);
      for (const path of spec.security.tmpfs) {
        const mount = (c.volume_mount as Json[]).find((m) => m.mount_path === path);
        expect(mount, `${c.name} ${path}`).toBeDefined();
        const volume = (w.pod.volume as Json[]).find((v) => v.name === mount.name);
        expect(volume.empty_dir).toBeDefined();
      }
    }
  });

  it("puts no Secret value in any pod spec: secret env comes only from secret_key_ref", () => {
    const secretRef = secretNameRef(json);
    const secret = resources(json, "kubernetes_secret_v1").find((s) => s.body.metadata.name === "jobstack-secrets")!.body;
    const secretValues = new Set(Object.values(secret.data as Record<string, string>));
    for (const w of all) {
      for (const text of strings(w.pod)) {
        expect(text, w.name).not.toMatch(/\$\{(var\.|random_password|urlencode|replace\(urlencode)/);
        expect(secretValues.has(text), `${w.name}: ${text}`).toBe(false);
      }
    }
    for (const { c, spec } of containers) {
      const env = c.env as Json[];
      for (const [name, value] of Object.entries(spec.secretEnv)) {
        const entry = env.find((e) => e.name === name);
        expect(entry.value, `${c.name} ${name}`).toBeUndefined();
        expect(entry.value_from.secret_key_ref).toEqual({ name: secretRef, key: value.key, optional: false });
        expect(secret.data[value.key]).toBeDefined();
      }
      for (const e of env.filter((x) => x.value !== undefined)) expect(String(e.value)).not.toContain("${");
    }
  });

  it("admits exactly the topology's edges through NetworkPolicies", () => {
    const edges = policyEdges(json);
    // One default-deny for both directions, and no other policy that selects every pod.
    expect(edges.selectAll).toEqual(["Egress+Ingress:0"]);
    expect(sorted(edges.ingress)).toEqual(EXPECTED_EDGES);
    // RabbitMQ's peer discovery asks the API server (any address, its ports only).
    expect(sorted(edges.egress)).toEqual(
      [...EXPECTED_EDGES.filter((e) => !e.startsWith("ingress->")), "rabbitmq->anywhere:443/TCP", "rabbitmq->anywhere:6443/TCP"].sort(),
    );
    expect(sorted(edges.dns)).toEqual(["api", "migrate", "rabbitmq", "worker"]);
    expect(sorted(edges.malformedDns)).toEqual([]);
    // And the edge set is the topology's: nothing added or dropped on the way.
    expect(topology.edges.map(topologyEdge).sort()).toEqual(EXPECTED_EDGES);
  });

  it("selects real pods: every service named in a policy matches exactly one pod template", () => {
    for (const name of ["api", "worker", "migrate", "postgres", "redis", "rabbitmq"]) {
      const matching = all.filter((w) => w.podLabels["app.kubernetes.io/name"] === name && w.podLabels["app.kubernetes.io/part-of"] === "jobstack");
      expect(matching.map((w) => w.name), name).toEqual([name]);
    }
  });

  it("keeps the StatefulSets' data on PVCs that outlive pods and the StatefulSet", () => {
    const sets = all.filter((w) => w.kind === "StatefulSet");
    expect(sets).toHaveLength(3);
    for (const w of sets) {
      const spec = service(topology, w.name as ServiceSpec["name"]);
      const body = w.resource.body.spec;
      expect(body.persistent_volume_claim_retention_policy).toEqual([{ when_deleted: "Retain", when_scaled: "Retain" }]);
      expect(body.volume_claim_template).toHaveLength(spec.volumes.length);
      for (const v of spec.volumes) {
        const claim = (body.volume_claim_template as Json[]).find((t) => t.metadata.name === v.name);
        expect(claim.spec.access_modes).toEqual(["ReadWriteOnce"]);
        expect(claim.spec.storage_class_name).toBe("standard");
        expect(claim.spec.resources.requests.storage).toBe(storageQuantity(v.sizeGiB));
        const mount = (w.pod.container[0].volume_mount as Json[]).find((m) => m.name === v.name);
        expect(mount.mount_path).toBe(v.mountPath);
        // A PVC is never a pod volume (that would tie the data to one pod spec).
        expect((w.pod.volume as Json[] | undefined)?.some((x) => x.name === v.name) ?? false).toBe(false);
      }
      expect(w.pod.security_context.fs_group).toBe(w.pod.security_context.run_as_group);
    }
  });

  it("autoscales workers exactly when the preset enables it", () => {
    const hpas = resources(json, "kubernetes_horizontal_pod_autoscaler_v2");
    const autoscaling = service(topology, "worker").autoscaling;
    expect(hpas).toHaveLength(autoscaling ? 1 : 0);
    if (autoscaling) {
      expect(hpas[0]!.body.spec).toMatchObject({ min_replicas: autoscaling.minReplicas, max_replicas: autoscaling.maxReplicas });
    }
  });
});

import { describe, expect, it } from "vitest";
import { DataService, CONFIG_CHECKSUM_ANNOTATION, configChecksum } from "../../../stacks/kubernetes/data-service.js";
import { service } from "../../../stacks/topology.js";
import { prod, resources, synthConstructs, type Json } from "./support.js";

const { topology } = prod();
const render = (name: "postgres" | "redis" | "rabbitmq") =>
  synthConstructs((scope) => {
    // A single node: prod's clustered RabbitMQ is rabbitmq-cluster.ts's (test/stacks/kubernetes/rabbitmq-cluster.test.ts).
    new DataService(scope, name, { namespace: "ns", environment: "prod", spec: { ...service(topology, name), replicas: 1 }, storageClass: "fast", secretName: "jobstack-secrets" });
  });

describe("DataService", () => {
  it("renders a headless Service named after the service, so connection URLs resolve", () => {
    const json = render("postgres");
    const [svc] = resources(json, "kubernetes_service_v1");
    expect(svc!.body.metadata.name).toBe("postgres");
    expect(svc!.body.spec.cluster_ip).toBe("None");
    expect(svc!.body.spec.port).toEqual([{ name: "postgres", port: 5432, target_port: "postgres", protocol: "TCP" }]);
    expect(svc!.body.spec.selector).toEqual({ "app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "jobstack" });
  });

  it("renders one StatefulSet with a PVC template in the environment's storage class, retained on delete", () => {
    const json = render("postgres");
    const [set] = resources(json, "kubernetes_stateful_set_v1");
    const spec = set!.body.spec;
    expect(spec.replicas).toBe("1");
    expect(spec.service_name).toMatch(/^\$\{kubernetes_service_v1\..*\.metadata\[0\]\.name\}$/);
    expect(spec.volume_claim_template[0].spec).toEqual({
      access_modes: ["ReadWriteOnce"],
      storage_class_name: "fast",
      resources: { requests: { storage: `${service(topology, "postgres").volumes[0]!.sizeGiB}Gi` } },
    });
    expect(spec.persistent_volume_claim_retention_policy).toEqual([{ when_deleted: "Retain", when_scaled: "Retain" }]);
  });

  it("stops Postgres with a fast shutdown before SIGTERM and gives it a grace period", () => {
    const [set] = resources(render("postgres"), "kubernetes_stateful_set_v1");
    const pod = set!.body.spec.template.spec;
    expect(pod.termination_grace_period_seconds).toBe(60);
    expect(pod.container[0].lifecycle.pre_stop[0].exec.command.join(" ")).toContain("pg_ctl stop -D \"$PGDATA\" -m fast");
  });

  it("runs Redis with the derived maxmemory arguments and its password from the Secret", () => {
    const [set] = resources(render("redis"), "kubernetes_stateful_set_v1");
    const c = set!.body.spec.template.spec.container[0];
    const redis = service(topology, "redis");
    expect(c.command).toEqual(redis.entrypoint);
    expect(c.args).toEqual(redis.command);
    expect(c.args).toContain("--maxmemory");
    expect((c.env as Json[]).find((e) => e.name === "REDISCLI_AUTH").value_from.secret_key_ref.key).toBe("redis-password");
  });

  it("mounts rabbitmq.conf from a ConfigMap and rolls the pod when it changes", () => {
    const json = render("rabbitmq");
    const rabbit = service(topology, "rabbitmq");
    const [map] = resources(json, "kubernetes_config_map_v1");
    expect(map!.body.metadata.name).toBe("rabbitmq-conf");
    expect(map!.body.data).toEqual({ "20-jobstack.conf": rabbit.configFiles[0]!.content });
    const [set] = resources(json, "kubernetes_stateful_set_v1");
    const tpl = set!.body.spec.template;
    expect(tpl.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION]).toBe(configChecksum(rabbit));
    const mount = (tpl.spec.container[0].volume_mount as Json[]).find((m) => m.name === "rabbitmq-conf");
    expect(mount).toEqual({ name: "rabbitmq-conf", mount_path: "/etc/rabbitmq/conf.d/20-jobstack.conf", sub_path: "20-jobstack.conf", read_only: true });
    // rabbit@rabbitmq must resolve inside the pod before the headless Service publishes it.
    expect(tpl.spec.host_aliases).toEqual([{ ip: "127.0.0.1", hostnames: ["rabbitmq"] }]);
    const changed = { ...rabbit, configFiles: [{ ...rabbit.configFiles[0]!, content: "consumer_timeout = 1\n" }] };
    expect(configChecksum(changed)).not.toBe(configChecksum(rabbit));
  });

  it("keeps Postgres' settings in a ConfigMap that the -c arguments read through envFrom", () => {
    const json = render("postgres");
    const pg = service(topology, "postgres");
    const [map] = resources(json, "kubernetes_config_map_v1");
    expect(map!.body.metadata.name).toBe("postgres-settings");
    const derived = Object.fromEntries(
      pg.command.flatMap((a, i) => (pg.command[i - 1] === "-c" ? [[a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]] : [])),
    );
    expect(map!.body.data).toEqual(derived);
    expect(Object.keys(derived)).toEqual(expect.arrayContaining(["shared_buffers", "work_mem", "max_connections"]));
    const [set] = resources(json, "kubernetes_stateful_set_v1");
    const container = set!.body.spec.template.spec.container[0];
    expect(container.env_from).toEqual([{ prefix: "PG_SETTING_", config_map_ref: { name: `\${kubernetes_config_map_v1.${map!.id}.metadata[0].name}` } }]);
    expect(container.args).toContain("shared_buffers=$(PG_SETTING_shared_buffers)");
    expect((container.args as string[]).filter((a) => /^[a-z_]+=/.test(a) && !a.includes("$(PG_SETTING_"))).toEqual([]);
    expect(set!.body.spec.template.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses an app service or more than one replica", () => {
    expect(() =>
      synthConstructs((s) => new DataService(s, "x", { namespace: "n", environment: "e", spec: service(topology, "api"), storageClass: "c", secretName: "s" })),
    ).toThrow(/api is app/);
    expect(() =>
      synthConstructs(
        (s) => new DataService(s, "x", { namespace: "n", environment: "e", spec: { ...service(topology, "redis"), replicas: 2 }, storageClass: "c", secretName: "s" }),
      ),
    ).toThrow(/replicas \(2\) must be 1/);
  });
});

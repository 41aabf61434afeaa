/**
 * The cluster's generated RabbitMQ files, handed to a real RabbitMQ node (derived settings are
 * proven on the real program, as in test/presets/tuning.realprograms.test.ts). A throwaway node boots with the generated rabbitmq.conf,
 * enabled_plugins and advanced.config; only the API server's address is pointed at a local
 * stand-in (plus ports that would collide with the machine's shared broker). The node must accept
 * every key, ask the stand-in (which answers like the rendered Role: `get` on the nodes'
 * Endpoints, 403 for anything else) for those Endpoints with the service account's token, boot
 * although the Event the plugin also posts is refused, take its node name from the address's `hostname` (address_type =
 * hostname: an IP-based name would not be its own, and it would not boot), and run with
 * quorum_cluster_size = the replica count.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import amqp from "amqplib";
import { afterAll, describe, expect, it } from "vitest";
import { clusterConfigFiles, RABBITMQ_NODES_SERVICE } from "../../../stacks/kubernetes/rabbitmq-cluster.js";
import { spareport, waitUntil } from "../../../harness/ports.js";
import { alive, chownTree, killTree, serviceUser, track, waitDead } from "../../support/procs.js";

const execFileP = promisify(execFile);
const NAMESPACE = "jobstack-prod";
const TOKEN = "test-service-account-token";

const dir = mkdtempSync(path.join(os.tmpdir(), "jobstack-rabbitmq-k8s-"));
chmodSync(dir, 0o755);
const pidFile = path.join(dir, "pid");
const pid = (): number | undefined => {
  try {
    return Number(readFileSync(pidFile, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
};
const untrack = track({ pid, dir });
const requests: { method: string; url: string; authorization: string }[] = [];
const ENDPOINTS_PATH = `/api/v1/namespaces/${NAMESPACE}/endpoints/${RABBITMQ_NODES_SERVICE}`;
/** The stand-in enforces the Role the stack renders: `get` on the nodes' Endpoints, nothing else. */
const apiServer = http.createServer((req, res) => {
  requests.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization ?? "" });
  req.resume();
  if (req.method !== "GET" || req.url !== ENDPOINTS_PATH || req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(403, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403 }));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  // The node's own pod is the only address (the plugin requires the local node among those it
  // discovers); with address_type = hostname the node name comes from `hostname`, not `ip`.
  res.end(
    JSON.stringify({
      kind: "Endpoints",
      apiVersion: "v1",
      metadata: { name: RABBITMQ_NODES_SERVICE, namespace: NAMESPACE },
      subsets: [{ addresses: [{ ip: "127.0.0.2", hostname: "localhost" }], ports: [{ name: "epmd", port: 4369 }] }],
    }),
  );
});
let node = "";

afterAll(async () => {
  const p = pid();
  // `stop <pidfile>` waits for that pid to exit, so only ask a node that is running.
  if (node && p !== undefined && alive(p)) await execFileP("rabbitmqctl", ["-n", node, "stop", pidFile], { timeout: 30_000 }).catch(() => undefined);
  if (p !== undefined && alive(p)) {
    killTree(p);
    await waitDead([p]).catch(() => undefined);
  }
  await new Promise<void>((r) => apiServer.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
  untrack();
}, 60_000);

describe("the RabbitMQ cluster's files on a real node", () => {
  it("are accepted, drive Kubernetes peer discovery through the Endpoints API, and set the quorum group size", { timeout: 180_000 }, async () => {
    await new Promise<void>((r) => apiServer.listen(0, "127.0.0.1", r));
    const apiPort = (apiServer.address() as { port: number }).port;
    const [amqpPort, distPort, managementPort, prometheusPort] = [await spareport(), await spareport(), await spareport(), await spareport()];
    const files = Object.fromEntries(clusterConfigFiles(NAMESPACE, 3).map((f) => [path.basename(f.mountPath), f.content]));

    writeFileSync(path.join(dir, "token"), TOKEN);
    writeFileSync(path.join(dir, "namespace"), NAMESPACE);
    const conf = files["30-cluster.conf"]!
      .split("\n")
      .filter((line) => !line.startsWith("cluster_formation.k8s.host ") && !line.startsWith("cluster_formation.k8s.hostname_suffix "))
      .concat([
        // Test-only: the stand-in API server; no DNS suffix (the line is left out), so the
        // discovered name is this node's own (<prefix>@localhost); ports clear of the shared broker's.
        "cluster_formation.k8s.host = 127.0.0.1",
        `cluster_formation.k8s.port = ${apiPort}`,
        "cluster_formation.k8s.scheme = http",
        `cluster_formation.k8s.token_path = ${path.join(dir, "token")}`,
        `cluster_formation.k8s.namespace_path = ${path.join(dir, "namespace")}`,
        `listeners.tcp.local = 127.0.0.1:${amqpPort}`,
        `management.tcp.port = ${managementPort}`,
        `management.tcp.ip = 127.0.0.1`,
        `prometheus.tcp.port = ${prometheusPort}`,
        `prometheus.tcp.ip = 127.0.0.1`,
        "",
      ])
      .join("\n");
    writeFileSync(path.join(dir, "rabbitmq.conf"), conf);
    writeFileSync(path.join(dir, "enabled_plugins"), files["enabled_plugins"]!);
    writeFileSync(path.join(dir, "advanced.config"), files["advanced.config"]!);
    chownTree(dir, serviceUser("rabbitmq"));

    node = `jobstack-k8s${process.pid}-${amqpPort}@localhost`;
    await execFileP("rabbitmq-server", ["-detached"], {
      cwd: dir,
      env: {
        ...process.env,
        RABBITMQ_NODENAME: node,
        RABBITMQ_NODE_PORT: String(amqpPort),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
        RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
        RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
        RABBITMQ_LOG_BASE: path.join(dir, "log"),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
        RABBITMQ_PID_FILE: pidFile,
      },
    });
    const log = () => {
      try {
        return readFileSync(path.join(dir, "log", `${node}.log`), "utf8").split("\n").slice(-40).join("\n");
      } catch {
        return "";
      }
    };
    await waitUntil(`rabbitmq node ${node} booted`, async () => {
      const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${amqpPort}`);
      await c.close();
      return true;
    }, 90_000, log);

    // Discovery read the Endpoints with the token. The plugin also tries to POST a Kubernetes
    // Event about the node; the Role does not allow it, and the node boots regardless.
    expect(requests.filter((r) => r.method === "GET")).toEqual(
      expect.arrayContaining([{ method: "GET", url: ENDPOINTS_PATH, authorization: `Bearer ${TOKEN}` }]),
    );
    expect(requests.filter((r) => r.url !== ENDPOINTS_PATH).map((r) => `${r.method} ${r.url}`)).toEqual(
      requests.filter((r) => r.url !== ENDPOINTS_PATH).map(() => `POST /api/v1/namespaces/${NAMESPACE}/events/`),
    );
    const env = async (app: string, key: string) => (await execFileP("rabbitmqctl", ["-n", node, "eval", `application:get_env(${app}, ${key}).`])).stdout.trim();
    expect(await env("rabbit", "quorum_cluster_size")).toBe("{ok,3}");
    expect(await env("rabbit", "cluster_partition_handling")).toBe("{ok,pause_minority}");
    const active = (await execFileP("rabbitmqctl", ["-n", node, "eval", "rabbit_plugins:active()."])).stdout;
    for (const plugin of ["rabbitmq_management", "rabbitmq_peer_discovery_k8s", "rabbitmq_prometheus"]) expect(active).toContain(plugin);
  });
});

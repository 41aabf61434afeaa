/**
 * A throwaway RabbitMQ cluster for fault tests: `n` throwaway nodes (test/support/throwaway.ts,
 * own node names, AMQP and distribution ports) joined with `rabbitmqctl join_cluster`.
 *
 *   const cluster = await startRabbitCluster(3);
 *   try { ... cluster.url ... await cluster.nodes[i].kill(); await cluster.nodes[i].restart(); }
 *   finally { await cluster.stop(); }
 *
 * The nodes share an Erlang cookie because Debian's wrapper runs every node (and rabbitmqctl) as
 * the `rabbitmq` user, whose ~/.erlang.cookie they all read. A killed node keeps its data dir, so
 * `restart()` brings it back under the same name and it rejoins the cluster by itself.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startRabbitMQ, type RabbitThrowaway } from "./throwaway.js";

const execFileP = promisify(execFile);

export interface RabbitCluster {
  readonly nodes: readonly RabbitThrowaway[];
  /** AMQP_URL naming every node (services/core/amqp-endpoints.ts). */
  readonly url: string;
  /** Runs rabbitmqctl (or another CLI tool) against a live node of the cluster. */
  ctl(tool: "rabbitmqctl" | "rabbitmq-queues", args: readonly string[], via?: RabbitThrowaway): Promise<string>;
  /** Node names of the cluster members that are running, as `via` sees them. */
  runningNodes(via?: RabbitThrowaway): Promise<string[]>;
  /** The node holding the quorum queue's leader, and its members. */
  quorumStatus(queue: string, via?: RabbitThrowaway): Promise<{ leader: string | undefined; members: string[]; followers: string[] }>;
  /** Stops every node; safe after kills. */
  stop(): Promise<void>;
}

async function run(tool: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execFileP(tool, [...args], { timeout: 60_000 });
  return stdout;
}

export async function startRabbitCluster(size: number): Promise<RabbitCluster> {
  const nodes: RabbitThrowaway[] = [];
  try {
    // In parallel: each node takes ~8 s to boot on this machine.
    nodes.push(...(await Promise.all(Array.from({ length: size }, () => startRabbitMQ()))));
    const seed = nodes[0]!;
    for (const node of nodes.slice(1)) {
      await run("rabbitmqctl", ["-n", node.node, "stop_app"]);
      await run("rabbitmqctl", ["-n", node.node, "join_cluster", seed.node]);
      await run("rabbitmqctl", ["-n", node.node, "start_app"]);
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    throw err;
  }

  const alive = async (preferred?: RabbitThrowaway): Promise<RabbitThrowaway> => {
    for (const n of preferred ? [preferred, ...nodes] : nodes) {
      try {
        await run("rabbitmqctl", ["-n", n.node, "-q", "ping"]);
        return n;
      } catch {
        /* try the next one */
      }
    }
    throw new Error("no node of the cluster answers");
  };

  const ctl: RabbitCluster["ctl"] = async (tool, args, via) => run(tool, ["-n", (await alive(via)).node, ...args]);

  const cluster: RabbitCluster = {
    nodes,
    url: `amqp://guest:guest@${nodes.map((n) => `127.0.0.1:${n.port}`).join(",")}`,
    ctl,
    async runningNodes(via) {
      const status = JSON.parse(await ctl("rabbitmqctl", ["cluster_status", "--formatter", "json"], via)) as { running_nodes: string[] };
      return [...status.running_nodes].sort();
    },
    async quorumStatus(queue, via) {
      const rows = JSON.parse(await ctl("rabbitmq-queues", ["quorum_status", queue, "--formatter", "json"], via)) as Record<string, unknown>[];
      const name = (r: Record<string, unknown>) => String(r["Node Name"] ?? r.node_name ?? "");
      const state = (r: Record<string, unknown>) => String(r["Raft State"] ?? r.raft_state ?? "");
      return {
        leader: rows.find((r) => state(r) === "leader") ? name(rows.find((r) => state(r) === "leader")!) : undefined,
        members: rows.map(name).sort(),
        followers: rows.filter((r) => state(r) === "follower").map(name).sort(),
      };
    },
    async stop() {
      // Followers first and the seed last, so no node waits for peers that are already gone.
      for (const n of [...nodes].reverse()) await n.stop().catch(() => undefined);
    },
  };
  return cluster;
}

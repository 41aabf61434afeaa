/** `jobstack graph`: the deployed topology of prod (Kubernetes) and dev (Docker) from synthesized JSON. */
import { describe, expect, it } from "vitest";
import { run } from "../../cli/run.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("jobstack graph", () => {
  it("prod: namespace, NetworkPolicy edges, ingress and PVCs", async () => {
    const r = await cli("graph", "--env", "prod");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("flowchart LR");
    expect(r.out).toContain('subgraph boundary["namespace jobstack-prod: default-deny NetworkPolicies"]');
    expect(lines.filter((l) => /^ {2}\w+ -->\|/.test(l)).sort()).toEqual(
      [
        '  api -->|"5432"| postgres',
        '  api -->|"5672,15672"| rabbitmq',
        '  api -->|"6379"| redis',
        // What the Ingress serves (HTTPS for its TLS host, HTTP), not the pod's 8080.
        '  entry -->|"Ingress jobs.example.com :443,80"| api',
        '  migrate -->|"5432"| postgres',
        '  rabbitmq -->|"4369,25672"| rabbitmq',
        '  worker -->|"5432"| postgres',
        '  worker -->|"5672"| rabbitmq',
        '  worker -->|"6379"| redis',
      ].sort(),
    );
    expect(r.out).toMatch(/postgres --- vol_postgres_postgres_data/);
    expect(r.out).toMatch(/vol_postgres_postgres_data\[\("PVC postgres-data \d+Gi at \/var\/lib\/postgresql\/data"\)\]/);
  });

  it("dev: the shared network, the published port and the intended edges (dashed)", async () => {
    const r = await cli("graph", "--env", "dev");
    expect(r.code).toBe(0);
    expect(r.out).toContain('subgraph boundary["network jobstack-dev (bridge): shared, every member can reach every other"]');
    expect(r.out).toContain('entry -->|"8080→8080/tcp"| api');
    expect(r.out).toContain('worker -.->|"6379"| redis');
    expect(r.out).toContain('migrate -.->|"5432"| postgres');
    expect(r.out).not.toMatch(/^ +(postgres|redis|rabbitmq) -\.?->/m);
    expect(r.out).toMatch(/volume jobstack-dev-postgres-data, prevent_destroy at \/var\/lib\/postgresql\/data/);
  });

  it("renders Graphviz DOT", async () => {
    const r = await cli("graph", "--env", "staging", "--format", "dot");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe('digraph "staging" {');
    expect(r.out).toContain('label="network jobstack-staging (overlay, encrypted): shared, every member can reach every other";');
    expect(r.out).toContain('api -> redis [label="6379", style=dashed];');
    expect(r.out.trimEnd().endsWith("}")).toBe(true);
  });

  it("needs --env", async () => {
    expect((await cli("graph")).code).toBe(2);
  });
});

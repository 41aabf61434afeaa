import { describe, expect, it } from "vitest";
import { explainRows } from "../../cli/commands/explain.js";
import { run } from "../../cli/run.js";
import { envFromYaml } from "../stacks/support.js";

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("jobstack presets", () => {
  it("lists every shipped preset with its description", async () => {
    const r = await cli("presets", "--json");
    expect(r.code).toBe(0);
    const presets = JSON.parse(r.out) as { name: string; description: string }[];
    expect(presets.map((p) => p.name)).toEqual(["balanced", "dev", "high-throughput", "low-latency", "memory-constrained"]);
    for (const p of presets) expect(p.description.length).toBeGreaterThan(20);
  });
});

describe("jobstack explain", () => {
  it("shows the handler modules, where the list came from, and the JOB_HANDLER_MODULES they become", async () => {
    const r = await cli("explain", "--env", "dev", "--wide");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^handlers\s+\(none: builtins only\)\s+every module in handlers\/ \(the environment file has no handlers:\)$/m);
    const env = envFromYaml(
      "dev",
      `target: docker\ntier: dev\npreset: dev\ndocker: { network: { driver: bridge } }\nimages: { api: { image: "a:1" }, worker: { image: "a:1" } }\nhandlers: [./examples/handlers/send-invoice.ts]\n`,
    );
    const rows = explainRows(env);
    expect(rows.find((row) => row.key === "handlers")).toEqual({ key: "handlers", value: "./examples/handlers/send-invoice.ts", source: "dev.yaml handlers" });
    expect(rows.find((row) => row.key === "env: worker JOB_HANDLER_MODULES")?.value).toBe("./examples/handlers/send-invoice.ts");
  });

  it("shows where each value came from, overrides included", async () => {
    const r = await cli("explain", "--env", "prod", "--wide");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/api\.replicas\s+3\s+stacks\/environments\/prod\.yaml overrides\.api\.replicas/);
    expect(r.out).toMatch(/api\.memoryMiB\s+512\s+presets\/high-throughput\.yaml/);
  });

  it("shows the JVM flags even where the environment runs the Node worker", async () => {
    const r = await cli("explain", "--env", "dev", "--json");
    const doc = JSON.parse(r.out) as { derived: { worker: { jvm: { javaToolOptions: string } } }; rows: { key: string; source: string }[] };
    expect(doc.derived.worker.jvm.javaToolOptions).toContain("-XX:+UseG1GC");
    const row = doc.rows.find((x) => x.key === "derived: worker JAVA_TOOL_OPTIONS");
    expect(row?.source).toContain("not used: worker.runtime is node");
  });

  it("reports a forced preset as coming from JOBSTACK_PRESET / --preset", async () => {
    const r = await cli("explain", "--env", "dev", "--preset", "low-latency", "--json");
    const doc = JSON.parse(r.out) as { preset: { name: string; selectedBy: string }; env: { worker: Record<string, string> } };
    expect(doc.preset).toMatchObject({ name: "low-latency", selectedBy: "--preset" });
    expect(doc.env.worker.WORKER_CONCURRENCY).toBe("8");
  });

  it("exits 1 naming the flag at fault, not an environment variable nobody set", async () => {
    const r = await cli("explain", "--env", "dev", "--preset", "nope");
    expect(r.code).toBe(1);
    expect(r.err).toContain('--preset: unknown preset "nope"');
    const e = await cli("explain", "--env", "nope");
    expect(e.code).toBe(1);
    expect(e.err).toContain('--env: unknown environment "nope" (known: dev, prod, staging)');
  });

  it("exits 2 on usage errors", async () => {
    expect((await cli("explain")).code).toBe(2);
    expect((await cli("explain", "--env")).code).toBe(2);
    expect((await cli("frobnicate")).code).toBe(2);
    expect((await cli("presets", "--bogus")).code).toBe(2);
    expect((await cli()).code).toBe(2);
    expect((await cli("--help")).code).toBe(0);
  });
});

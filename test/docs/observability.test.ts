/**
 * docs/alerts.yml and docs/grafana-dashboard.json against what the services really export: a
 * real api (its system-wide gauges) and a real worker process (its histograms) run a job, their
 * /metrics are scraped, and every alert expression and dashboard query must parse with
 * Prometheus' own PromQL grammar (@prometheus-io/lezer-promql) and name only metrics found there.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { spareport } from "../../harness/ports.js";
import { eventually, ROOT, spawnWorker, workerEnv, type WorkerProcess } from "../../harness/jobstack.js";
import { authed, call, createTestDatabase, jsonPost, startStack, type TestDatabase, type TestStack } from "../services/api/harness.js";

let db: TestDatabase;
let stack: TestStack;
let worker: WorkerProcess;
let apiText: string;
let workerText: string;
let exported: Set<string>;

/** Series names a scrape may be queried by: every `# TYPE` family with its sample suffixes. */
function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(`${name}${s}`);
  }
  return names;
}

/** The sample value of one series of a scrape (labels in the order given), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Label names seen on the samples of each series name of a scrape. */
function labelsByName(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [, name, labels] of text.matchAll(/^(\w+)\{([^}]*)\} /gm)) {
    const set = out.get(name!) ?? new Set<string>();
    for (const [, label] of labels!.matchAll(/(\w+)="/g)) set.add(label!);
    out.set(name!, set);
  }
  return out;
}

/** Parse errors, selected metric names, and the label names each selector matches on. */
function analyse(expr: string): { errors: string[]; metrics: string[]; matchers: { metric: string; label: string }[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  const matchers: { metric: string; label: string }[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: "${expr.slice(node.from, node.to + 10)}"`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") metrics.push(expr.slice(node.from, node.to));
      if (node.name === "LabelName" && node.node.parent?.parent?.name === "LabelMatchers") {
        const selector = node.node.parent.parent.parent;
        const id = selector?.getChild("Identifier");
        if (id) matchers.push({ metric: expr.slice(id.from, id.to), label: expr.slice(node.from, node.to) });
      }
    },
  });
  return { errors, metrics, matchers };
}

/** Label matchers naming a label the metric's samples do not carry (metrics without samples are not judged). */
function unknownLabels(matchers: { metric: string; label: string }[]): string[] {
  const labels = labelsByName(`${apiText}\n${workerText}`);
  return matchers.filter(({ metric, label }) => labels.has(metric) && !labels.get(metric)!.has(label)).map(({ metric, label }) => `${metric}{${label}}`);
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules: Rule[] = (parseYaml(readFileSync(path.join(ROOT, "docs/alerts.yml"), "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const dashboard = JSON.parse(readFileSync(path.join(ROOT, "docs/grafana-dashboard.json"), "utf8")) as {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack({ databaseUrl: db.url, metricsMaxAgeMs: 0 });
  const healthPort = await spareport();
  // The harness declares its queue as classic; the worker must declare it the same way.
  worker = spawnWorker(workerEnv(db, stack.queueName, { HEALTH_PORT: String(healthPort), HOST: "127.0.0.1", QUEUE_TYPE: "classic" }));
  const submitted = await call(`${stack.baseUrl}/jobs`, jsonPost(stack.token, { type: "noop" }));
  expect(submitted.status).toBe(202);
  await eventually(
    "the job to complete",
    async () => (await call(`${stack.baseUrl}/jobs/${submitted.body.id}`, authed(stack.token))).body?.state === "COMPLETED",
    60_000,
  );
  workerText = await eventually("the worker's /metrics", async () => {
    const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
    return res.ok ? res.text() : null;
  });
  // In the api process the dependency watch keeps jobstack_dependency_up current; this in-process
  // stack has no watch, so one /readyz (which records what it saw) stands in for its first pass.
  await fetch(`${stack.baseUrl}/readyz`);
  apiText = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  exported = new Set([...metricNames(apiText), ...metricNames(workerText)]);
}, 90_000);

afterAll(async () => {
  if (worker) {
    worker.kill("SIGTERM");
    await worker.exited;
  }
  await stack?.close();
  await db?.drop();
});

describe("what the services export", () => {
  it("the api carries the system-wide gauges, read from Postgres and RabbitMQ", () => {
    expect(sample(apiText, "jobstack_jobs", { type: "noop", state: "COMPLETED" })).toBe(1);
    expect(sample(apiText, "jobstack_jobs", { type: "noop", state: "PENDING" })).toBe(0);
    expect(sample(apiText, "jobstack_oldest_job_age_seconds", { state: "PENDING" })).toBe(0);
    expect(sample(apiText, "jobstack_queue_messages_ready", { queue: stack.queueName })).toBe(0);
    expect(sample(apiText, "jobstack_queue_messages_dead_lettered", { queue: `${stack.queueName}.dead` })).toBe(0);
    expect(sample(apiText, "jobstack_queue_consumers", { queue: stack.queueName })).toBe(1);
    for (const dependency of ["postgres", "redis", "rabbitmq"]) expect(sample(apiText, "jobstack_dependency_up", { dependency })).toBe(1);
  });

  it("the worker observes time in queue and run time by type", () => {
    expect(sample(workerText, "jobstack_job_queue_wait_seconds_count", { type: "noop" })).toBe(1);
    expect(sample(workerText, "jobstack_job_duration_seconds_count", { type: "noop", outcome: "completed" })).toBe(1);
    expect(metricNames(workerText).has("jobstack_jobs")).toBe(false); // system-wide gauges only on the api
  });

  it("names follow Prometheus conventions: counters end in _total, durations in _seconds", () => {
    for (const [, name, type] of `${apiText}\n${workerText}`.matchAll(/^# TYPE (jobstack_\S+) (\S+)$/gm)) {
      if (type === "counter") expect(name, name).toMatch(/_total$/);
      if (type === "histogram") expect(name, name).toMatch(/_seconds$/);
    }
  });
});

describe("docs/alerts.yml", () => {
  it("has the rules the operators need", () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(["JobstackBacklogGrowing", "JobstackOldestJobTooOld", "JobstackDeadLetters", "JobstackDependencyDown"]),
    );
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toEqual(expect.any(String));
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it.each(rules.map((r) => [r.alert, r.expr] as const))("%s parses and names only exported metrics and labels", (_alert, expr) => {
    const { errors, metrics, matchers } = analyse(expr);
    expect(errors).toEqual([]);
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.filter((m) => !exported.has(m))).toEqual([]);
    expect(unknownLabels(matchers)).toEqual([]);
  });

  it("the parse check itself catches a typo, an unknown metric and an unknown label", () => {
    expect(analyse("max(jobstack_jobs{state=\"PENDING\"}) >").errors).not.toEqual([]);
    expect(analyse("max(jobstack_jbos) > 0").metrics.filter((m) => !exported.has(m))).toEqual(["jobstack_jbos"]);
    expect(unknownLabels(analyse('max(jobstack_jobs{status="PENDING", type="noop"})').matchers)).toEqual(["jobstack_jobs{status}"]);
  });
});

describe("docs/grafana-dashboard.json", () => {
  it("has panels with queries", () => {
    expect(queries.length).toBeGreaterThan(10);
  });

  it.each(queries.map((q) => [q.panel, q.expr] as const))("%s: %s parses and names only exported metrics and labels", (_panel, expr) => {
    const { errors, metrics, matchers } = analyse(expr);
    expect(errors).toEqual([]);
    expect(metrics.filter((m) => !exported.has(m))).toEqual([]);
    expect(unknownLabels(matchers)).toEqual([]);
  });
});

/**
 * .github/workflows/jobstack.yml is valid to GitHub's own parser, does what the pipeline promises
 * (PR: validation matrix; main: per environment synth → validate → deploy with TF_VAR secrets),
 * and every `run:` calls only things that exist: npm scripts from package.json, `npx jobstack`
 * subcommands and options that cli/run.ts dispatches, and cdktf commands.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tsImport } from "tsx/esm/api";
import type { WorkflowTemplate } from "@actions/workflow-parser";
import { listEnvironments, loadEnvironment } from "../../stacks/config/index.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FILE = join(ROOT, ".github", "workflows", "jobstack.yml");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; bin: Record<string, string> };
const runSource = readFileSync(join(ROOT, "cli", "run.ts"), "utf8");
/** Subcommands cli/run.ts dispatches (`case "validate":`) and the options it parses. */
const JOBSTACK_COMMANDS = [...runSource.matchAll(/case "([a-z-]+)":/g)].map((m) => m[1]!);
const JOBSTACK_OPTIONS = [...(runSource.match(/const OPTIONS = \{([\s\S]*?)\} as const/)?.[1] ?? "").matchAll(/^\s*([a-z-]+): \{/gm)].map((m) => m[1]!);
/** cdktf-cli 0.21 commands used by a pipeline. */
const CDKTF_COMMANDS = ["synth", "deploy", "destroy", "diff", "plan", "get", "output", "list"];
const NPM_BUILTINS = ["ci", "install", "test", "run"];

type Job = WorkflowTemplate["jobs"][number] & { steps?: { run?: { toString(): string }; uses?: { value: string } }[] };

let workflow: WorkflowTemplate;
let runs: { job: string; run: string }[];

beforeAll(async () => {
  // The parser imports its JSON schema without an import attribute, which Node refuses when
  // vitest leaves node_modules to Node; tsx's loader accepts it.
  const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } = (await tsImport(
    "@actions/workflow-parser",
    import.meta.url,
  )) as typeof import("@actions/workflow-parser");
  const parsed = parseWorkflow({ name: "jobstack.yml", content: readFileSync(FILE, "utf8") }, new NoOperationTraceWriter());
  expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  workflow = await convertWorkflowTemplate(parsed.context, parsed.value!);
  runs = (workflow.jobs as Job[]).flatMap((j) => (j.steps ?? []).filter((s) => s.run).map((s) => ({ job: j.id.value, run: String(plain(s.run)) })));
});

/** What is wrong with one `run:` script, one message per unknown script, command or option. */
function problemsIn(j: string, run: string): string[] {
  const problems: string[] = [];
  for (const line of run.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const words = line.split(">")[0]!.trim().split(/\s+/);
    const [tool, sub, ...rest] = words;
    if (tool === "npm") {
      if (sub === "run" || sub === "run-script") {
        const script = pkg.scripts[rest[0]!];
        if (script === undefined) problems.push(`${j}: npm run ${rest[0]} is not a script in package.json`);
        // The cdktf wrapper's own command must be one cdktf has.
        const wrapped = /^node cli\/cdktf\.js ([a-z]+)$/.exec(script ?? "")?.[1];
        if (wrapped !== undefined && !CDKTF_COMMANDS.includes(wrapped)) problems.push(`${j}: npm run ${rest[0]} wraps cdktf ${wrapped}, which does not exist`);
      } else if (sub === "test") {
        if (!("test" in pkg.scripts)) problems.push(`${j}: npm test without a test script`);
      } else if (!NPM_BUILTINS.includes(sub!)) problems.push(`${j}: unexpected npm command "${sub}"`);
    } else if (tool === "npx") {
      if (sub === "jobstack") {
        if (!pkg.bin.jobstack || !existsSync(join(ROOT, pkg.bin.jobstack))) problems.push(`${j}: package.json has no jobstack bin`);
        const [command, ...args] = rest;
        if (!JOBSTACK_COMMANDS.includes(command!)) problems.push(`${j}: jobstack has no "${command}" command`);
        for (const flag of args.filter((a) => a.startsWith("--"))) {
          if (!JOBSTACK_OPTIONS.includes(flag.slice(2))) problems.push(`${j}: jobstack has no ${flag} option`);
        }
      } else if (sub === "cdktf") {
        // Bare cdktf calls HashiCorp's checkpoint service and draws a spinner frame per log line.
        problems.push(`${j}: npx cdktf ${rest[0]} runs without CHECKPOINT_DISABLE; use npm run synth / deploy / diff / output / destroy`);
      } else problems.push(`${j}: npx ${sub} is neither jobstack nor cdktf`);
    } else problems.push(`${j}: unexpected command "${line}"`);
  }
  return problems;
}

const job = (id: string): Job => (workflow.jobs as Job[]).find((j) => j.id.value === id)!;
/** A parser token as plain data; expressions as their `${{ … }}` source. */
function plain(token: unknown): unknown {
  const t = token as { source?: string; toJSON?: () => unknown } | null | undefined;
  if (t && typeof t === "object" && typeof t.source === "string") return t.source;
  return fromSerialized(t && typeof t === "object" && t.toJSON ? t.toJSON() : t);
}
function fromSerialized(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  const o = v as { map?: { Key: unknown; Value: unknown }[]; seq?: unknown[]; expr?: string };
  if (o.map) return Object.fromEntries(o.map.map(({ Key, Value }) => [String(plain(Key)), plain(Value)]));
  if (o.seq) return o.seq.map(plain);
  if (typeof o.expr === "string") return `\${{ ${o.expr} }}`;
  return v;
}
const text = (token: unknown): string => JSON.stringify(plain(token));

describe(".github/workflows/jobstack.yml", () => {
  it("parses and converts without errors", () => {
    expect(workflow.errors ?? []).toEqual([]);
    expect(Object.keys(workflow.events).sort()).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(workflow.events.push?.branches).toEqual(["main"]);
    expect(workflow.events.workflow_dispatch?.inputs?.preset?.type).toBe("string");
  });

  it("runs the validation matrix on pull requests after npm ci", () => {
    const j = job("validate-matrix");
    expect(String(j.if)).toContain("pull_request");
    const mine = runs.filter((r) => r.job === "validate-matrix").map((r) => r.run);
    expect(mine.slice(0, 2)).toEqual(["npm ci", "npx jobstack validate --matrix"]);
  });

  it("on main, per environment: synth, validate that output, deploy with secrets from the store", () => {
    const j = job("deploy");
    expect(String(j.if)).toContain("push");
    expect(text(j.strategy)).toContain('"environment":["staging","prod"]');
    const envs = text((j as { env?: unknown }).env);
    expect(envs).toContain("JOBSTACK_PRESET");
    expect(envs).toMatch(/inputs\.preset \|\| vars\.JOBSTACK_PRESET/);
    const mine = runs.filter((r) => r.job === "deploy").map((r) => r.run);
    expect(mine).toEqual([
      "npm ci",
      "npm run synth",
      "npx jobstack validate --out cdktf.out --env ${{ matrix.environment }}",
      "npm run deploy -- ${{ matrix.environment }} --skip-synth --auto-approve",
    ]);
    const deployStep = (j.steps ?? []).find((s) => String(plain(s.run) ?? "").startsWith("npm run deploy")) as { env?: unknown } | undefined;
    const stepEnv = text(deployStep?.env);
    for (const name of ["postgres_password", "redis_password", "rabbitmq_password", "api_token", "operator_token"]) {
      expect(stepEnv).toContain(`TF_VAR_${name}`);
      expect(stepEnv).toContain(`secrets.${name.toUpperCase()}`);
    }
  });

  it("deploys only environments that exist", () => {
    const matrixEnvs = (plain(job("deploy").strategy) as { matrix: { environment: string[] } }).matrix.environment;
    expect(matrixEnvs.filter((e) => !listEnvironments().includes(e))).toEqual([]);
  });

  it("deploys only environments whose state outlives the runner, one at a time, stopping at the first failure", () => {
    const strategy = plain(job("deploy").strategy) as { "fail-fast": boolean; "max-parallel": number; matrix: { environment: string[] } };
    expect(strategy["fail-fast"]).toBe(true);
    expect(strategy["max-parallel"]).toBe(1);
    const local = strategy.matrix.environment.filter((e) => loadEnvironment(e).environment.backend.type === "local");
    expect(local).toEqual([]);
  });

  it("every run: calls only npm scripts, jobstack subcommands/options and cdktf commands that exist", () => {
    expect(JOBSTACK_COMMANDS).toContain("validate");
    expect(runs.length).toBeGreaterThan(4);
    expect(runs.flatMap(({ job: j, run }) => problemsIn(j, run))).toEqual([]);
  });

  it("runs the tests' Node major (24) and every cdktf call through the npm scripts", () => {
    const text = readFileSync(FILE, "utf8");
    expect([...text.matchAll(/node-version: (\S+)/g)].map((m) => m[1])).toEqual(["24", "24"]);
    for (const name of ["synth", "deploy", "diff", "output", "destroy"]) expect(pkg.scripts[name], name).toMatch(/cdktf/);
  });

  it("the command check itself rejects what does not exist", () => {
    expect(problemsIn("j", "npm run no-such-script")).toEqual(["j: npm run no-such-script is not a script in package.json"]);
    expect(problemsIn("j", "npx jobstack deploy")).toEqual(['j: jobstack has no "deploy" command']);
    expect(problemsIn("j", "npx jobstack validate --bogus")).toEqual(["j: jobstack has no --bogus option"]);
    expect(problemsIn("j", "npx cdktf deploy prod")).toEqual(["j: npx cdktf deploy runs without CHECKPOINT_DISABLE; use npm run synth / deploy / diff / output / destroy"]);
    expect(problemsIn("j", "curl https://example.com")).toEqual(['j: unexpected command "curl https://example.com"']);
  });
});

/**
 * Every printable password must survive the trip: TF_VAR_… → the URL Terraform builds for the
 * services (Docker: the Swarm task env; Kubernetes: the Secret) → the client library's parser →
 * a real server that checks the password. The URL expressions are taken from the synthesized
 * stacks and evaluated by the real `terraform console` (offline, no provider needed), and each
 * client connects with the URL to a throwaway server whose password is the raw one.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import amqp from "amqplib";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { managementReader } from "../../services/api/rabbitmq-management.js";
import { loadEnvironment } from "../../stacks/config/index.js";
import { waitUntil } from "../../harness/ports.js";
import { spareport, startPostgres, startRabbitMQ, startRedis, type RabbitThrowaway, type Throwaway } from "../support/throwaway.js";
import { synthEnv, type Json } from "./support.js";

const execFileP = promisify(execFile);

/** Every printable ASCII character but the alphanumerics, around a few letters, and a space. */
const PUNCTUATION = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const PASSWORD = `Ab1${PUNCTUATION}z9 +end`;
const SECRETS = { postgres_password: PASSWORD, redis_password: PASSWORD, rabbitmq_password: PASSWORD, api_token: "t".repeat(32) };

const URL_KEYS = ["DATABASE_URL", "REDIS_URL", "AMQP_URL", "RABBITMQ_MANAGEMENT_URL"] as const;
type Urls = Record<(typeof URL_KEYS)[number], string>;

/** The four URL templates (Terraform string templates) each target renders. */
function urlTemplates(): Record<"docker" | "kubernetes", Urls> {
  const docker = synthEnv(loadEnvironment("staging")).json;
  const kubernetes = synthEnv(loadEnvironment("prod")).json;
  const services = Object.values((docker.resource.docker_service ?? {}) as Record<string, Json>);
  const api = services.find((s) => (s.labels as { label: string; value: string }[]).some((l) => l.label === "com.jobstack.service" && l.value === "api"))!;
  const env = api.task_spec.container_spec.env as Record<string, string>;
  const secret = Object.values((kubernetes.resource.kubernetes_secret_v1 ?? {}) as Record<string, Json>).find((s) => s.data?.["database-url"])!;
  return {
    docker: { DATABASE_URL: env.DATABASE_URL!, REDIS_URL: env.REDIS_URL!, AMQP_URL: env.AMQP_URL!, RABBITMQ_MANAGEMENT_URL: env.RABBITMQ_MANAGEMENT_URL! },
    kubernetes: {
      DATABASE_URL: secret.data["database-url"],
      REDIS_URL: secret.data["redis-url"],
      AMQP_URL: secret.data["amqp-url"],
      RABBITMQ_MANAGEMENT_URL: secret.data["rabbitmq-management-url"],
    },
  };
}

/**
 * Evaluates Terraform string templates with the real Terraform, the secrets given as -var.
 * `terraform console` reading stdin once exited 0 and printed nothing (a CI-style run on a loaded
 * machine, 2026-12-01); an empty answer is asked again, up to three times, and then reported with
 * what the console said.
 */
async function terraformEval(templates: readonly string[]): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const { out, err } = await terraformConsole(templates);
    // The console prints the JSON string as an HCL string literal.
    const line = out.trim().split("\n").at(-1) ?? "";
    if (line !== "") return JSON.parse(JSON.parse(line) as string) as string[];
    if (attempt === 3) throw new Error(`terraform console printed nothing ${attempt} times; stderr: ${err}`);
  }
}

async function terraformConsole(templates: readonly string[]): Promise<{ out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), "jobstack-tfconsole-"));
  try {
    writeFileSync(join(dir, "main.tf"), Object.keys(SECRETS).map((name) => `variable "${name}" {\n  type = string\n  sensitive = true\n}\n`).join(""));
    writeFileSync(join(dir, "cli.tfrc"), "");
    // nonsensitive(): the console refuses to print values derived from sensitive variables.
    const expression = `jsonencode([${templates.map((t) => `nonsensitive("${t}")`).join(", ")}])\n`;
    const args = ["console", ...Object.entries(SECRETS).flatMap(([k, v]) => ["-var", `${k}=${v}`])];
    const child = spawn("terraform", args, { cwd: dir, env: { ...process.env, TF_CLI_CONFIG_FILE: join(dir, "cli.tfrc"), CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.end(expression);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, err).toBe(0);
    return { out, err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let rendered: Record<"docker" | "kubernetes", Urls>;
let postgres: Throwaway;
let redis: Throwaway;
let rabbit: RabbitThrowaway;
let managementPort: number;
let hbaDir: string;

beforeAll(async () => {
  const templates = urlTemplates();
  const flat = [...Object.values(templates.docker), ...Object.values(templates.kubernetes)];
  const [values] = await Promise.all([terraformEval(flat), startServers()]);
  rendered = {
    docker: Object.fromEntries(URL_KEYS.map((k, i) => [k, values[i]!])) as Urls,
    kubernetes: Object.fromEntries(URL_KEYS.map((k, i) => [k, values[i + URL_KEYS.length]!])) as Urls,
  };
}, 180_000);

async function startServers(): Promise<void> {
  // Postgres that checks passwords over TCP (the shared one trusts everyone).
  // (The throwaway's readiness probe connects as postgres over TCP; jobstack must prove its password.)
  hbaDir = mkdtempSync(join(tmpdir(), "jobstack-hba-"));
  chmodSync(hbaDir, 0o755);
  writeFileSync(join(hbaDir, "pg_hba.conf"), "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n", { mode: 0o644 });
  managementPort = await spareport();
  [postgres, redis, rabbit] = await Promise.all([
    startPostgres({ settings: { hba_file: join(hbaDir, "pg_hba.conf"), password_encryption: "scram-sha-256" } }),
    startRedis({ args: ["--requirepass", PASSWORD] }),
    startRabbitMQ({ plugins: ["rabbitmq_management"], conf: `management.tcp.port = ${managementPort}\nmanagement.tcp.ip = 127.0.0.1\n` }),
  ]);
  const admin = new pg.Client({ host: postgres.dir, port: postgres.port, user: "postgres", database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`create role jobstack login password ${admin.escapeLiteral(PASSWORD)}`);
    await admin.query("create database jobstack owner jobstack");
  } finally {
    await admin.end();
  }
  // runuser passes argv without a shell (Debian's rabbitmqctl wrapper would re-parse `$` and `\``).
  const ctl = (...a: string[]) => execFileP("runuser", ["-u", "rabbitmq", "--", "/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", rabbit.node, ...a], { env: { ...process.env, HOME: "/var/lib/rabbitmq" } });
  await ctl("add_user", "jobstack", PASSWORD);
  await ctl("set_permissions", "-p", "/", "jobstack", ".*", ".*", ".*");
  // The image makes RABBITMQ_DEFAULT_USER an administrator, which the management API requires.
  await ctl("set_user_tags", "jobstack", "administrator");
  await waitUntil("the management API", async () => (await fetch(`http://127.0.0.1:${managementPort}/api/overview`).catch(() => null)) !== null, 60_000);
}

afterAll(async () => {
  await Promise.all([postgres?.stop(), redis?.stop(), rabbit?.stop()]);
  if (hbaDir) rmSync(hbaDir, { recursive: true, force: true });
});

/** The rendered URL pointed at a throwaway server: only host and port change, the userinfo stays byte for byte. */
const at = (url: string, host: string, server: Throwaway) => url.replace(`@${host}:`, "@127.0.0.1:").replace(/@127\.0\.0\.1:\d+/, `@127.0.0.1:${server.port}`);

describe.each(["docker", "kubernetes"] as const)("a password full of special characters, %s", (target) => {
  it("is percent-encoded: no '+' for a space, nothing but unreserved characters left bare", () => {
    for (const url of Object.values(rendered[target])) {
      const userinfo = url.slice(url.indexOf("//") + 2, url.lastIndexOf("@"));
      const password = userinfo.slice(userinfo.indexOf(":") + 1);
      expect(password).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+$/);
      expect(decodeURIComponent(password)).toBe(PASSWORD);
    }
  });

  it("authenticates with pg", async () => {
    const client = new pg.Client({ connectionString: at(rendered[target].DATABASE_URL, "postgres", postgres) });
    await client.connect();
    try {
      expect((await client.query<{ u: string }>("select current_user as u")).rows[0]!.u).toBe("jobstack");
    } finally {
      await client.end();
    }
  });

  it("authenticates with ioredis", async () => {
    const client = new Redis(at(rendered[target].REDIS_URL, "redis", redis), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });

  it("authenticates with amqplib", async () => {
    const conn = await amqp.connect(at(rendered[target].AMQP_URL, "rabbitmq", rabbit));
    await conn.close();
  });

  it("authenticates with the management API, as the api reads it", async () => {
    const amqpUrl = at(rendered[target].AMQP_URL, "rabbitmq", rabbit);
    const queue = `password-encoding-${target}`;
    const conn = await amqp.connect(amqpUrl);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { autoDelete: false, durable: false });
      const url = rendered[target].RABBITMQ_MANAGEMENT_URL.replace(/@rabbitmq:15672$/, `@127.0.0.1:${managementPort}`);
      expect(url).not.toBe(rendered[target].RABBITMQ_MANAGEMENT_URL);
      // Rejects on a 401 (or any non-2xx); the queue's figures may not be sampled yet.
      await expect(managementReader(url, amqpUrl, 5_000)(queue)).resolves.toBeDefined();
      await ch.deleteQueue(queue);
    } finally {
      await conn.close();
    }
  });
});

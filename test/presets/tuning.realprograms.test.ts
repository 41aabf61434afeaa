/**
 * Hands derived settings to the real programs, which must accept them and show them in effect
 * (a derived setting is proven on the program itself, not only in a snapshot; issue #2 "Must show"):
 * - the JVM flags to `java <flags> -XX:+PrintFlagsFinal -version`, with the container emulated by
 *   -XX:MaxRAM and -XX:ActiveProcessorCount: must exit 0 with the chosen GC, pause goal, region
 *   size and heap in effect;
 * - the Postgres settings to a throwaway `postgres -c …`: every setting must be in effect, from
 *   the command line, with the value we derived (compared through pg_settings, since Postgres
 *   stores memory in its own units, e.g. wal_buffers in 8 kB pages);
 * - the Redis arguments to a throwaway `redis-server`: CONFIG GET must return them;
 * - one preset's rabbitmq.conf to a throwaway RabbitMQ node: it boots, and the watermark, disk
 *   limit and consumer timeout are in effect (read back with `rabbitmqctl eval`).
 *
 * Cases: every shipped preset (presets/*.yaml through the loader and `derive`), plus a fixed
 * small/medium/large table that covers what presets may not (desktop and dw workloads, all three
 * collectors with their optional flags, other eviction policies).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { listPresets, loadPreset } from "../../presets/index.js";
import { derive, presetIssues } from "../../presets/derive.js";
import { jvmIssues, jvmTuning, type GcName, type JvmInput } from "../../presets/tuning/jvm.js";
import { postgresIssues, postgresTuning, type PostgresInput } from "../../presets/tuning/postgres.js";
import { redisIssues, redisTuning, type RedisInput } from "../../presets/tuning/redis.js";
import { MIB } from "../../presets/tuning/units.js";
import { rabbitmqTuning } from "../../presets/tuning/rabbitmq.js";
import { startPostgres, startRabbitMQ, startRedis } from "../support/throwaway.js";
import { readdirSync } from "node:fs";

const execFileP = promisify(execFile);

interface JvmCase {
  readonly input: JvmInput;
  readonly flags: readonly string[];
  readonly maxHeapMiB: number;
}
interface Case {
  readonly name: string;
  readonly jvm: JvmCase;
  readonly postgres: Readonly<Record<string, string>>;
  readonly redis: { readonly args: readonly string[]; readonly config: Readonly<Record<string, string>> };
  /** Only for shipped presets: a RabbitMQ node takes several seconds to boot. */
  readonly rabbitmq?: ReturnType<typeof rabbitmqTuning>;
}

function fromPreset(name: string): Case {
  const p = loadPreset(name);
  const issues = presetIssues(p);
  if (issues.length > 0) throw new Error(`preset ${name} has issues: ${JSON.stringify(issues)}`);
  const d = derive(p);
  const { extraFlags: _extra, ...jvm } = p.worker.jvm;
  return {
    name: `preset ${name}`,
    jvm: { input: { ...jvm, containerMemoryMiB: p.worker.memoryMiB, containerCpus: p.worker.cpu }, flags: d.worker.jvm.flags, maxHeapMiB: d.worker.jvm.maxHeapMiB },
    postgres: d.postgres.settings,
    redis: d.redis,
    rabbitmq: d.rabbitmq,
  };
}

function fromTable(name: string, j: JvmInput, pgIn: PostgresInput, r: RedisInput): Case {
  const issues = [...jvmIssues(j), ...postgresIssues(pgIn), ...redisIssues(r)];
  if (issues.length > 0) throw new Error(`case ${name} has issues: ${JSON.stringify(issues)}`);
  const jt = jvmTuning(j);
  return { name, jvm: { input: j, flags: jt.flags, maxHeapMiB: jt.maxHeapMiB }, postgres: postgresTuning(pgIn).settings, redis: redisTuning(r) };
}

const cases: Case[] = [
  ...listPresets().map(fromPreset),
  fromTable(
    "table small (G1 1 MiB regions, desktop workload)",
    { gc: "G1", maxGcPauseMillis: 100, g1RegionSizeMiB: 1, maxRamPercentage: 70, initialRamPercentage: 10, containerMemoryMiB: 512, containerCpus: 0.5 },
    { memoryMiB: 512, cpus: 1, workload: "desktop", storage: "ssd", maxConnections: 30 },
    { containerMemoryMiB: 128, maxmemoryPercent: 75, policy: "allkeys-lru", samples: 5 },
  ),
  fromTable(
    "table medium (Parallel, mixed workload on hdd)",
    { gc: "Parallel", parallelGcThreads: 2, maxRamPercentage: 70, initialRamPercentage: 25, containerMemoryMiB: 2048, containerCpus: 2 },
    { memoryMiB: 4096, cpus: 4, workload: "mixed", storage: "hdd", maxConnections: 100 },
    { containerMemoryMiB: 1024, maxmemoryPercent: 80, policy: "allkeys-lfu", samples: 10 },
  ),
  fromTable(
    "table large (G1 32 MiB regions, dw workload on san)",
    { gc: "G1", maxGcPauseMillis: 50, g1RegionSizeMiB: 32, maxRamPercentage: 80, containerMemoryMiB: 8192, containerCpus: 4 },
    { memoryMiB: 16384, cpus: 8, workload: "dw", storage: "san", maxConnections: 40 },
    { containerMemoryMiB: 4096, maxmemoryPercent: 90, policy: "volatile-ttl", samples: 64 },
  ),
];

// ---- JVM ---------------------------------------------------------------------------------------

const GC_FLAG: Record<GcName, string> = { G1: "UseG1GC", Parallel: "UseParallelGC", ZGC: "UseZGC" };

/** Parses `-XX:+PrintFlagsFinal` lines: "   size_t MaxHeapSize   = 805306368   {product} {ergonomic}". */
function parseFlags(out: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (const line of out.split("\n")) {
    const m = /^\s*\S+\s+(\w+)\s+:?=\s+(\S*)/.exec(line);
    if (m) flags.set(m[1]!, m[2]!);
  }
  return flags;
}

describe.concurrent("JVM flags in a real java -XX:+PrintFlagsFinal", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { input, flags, maxHeapMiB } = c.jvm;
      const emulate = [`-XX:MaxRAM=${input.containerMemoryMiB * MIB}`, `-XX:ActiveProcessorCount=${Math.max(1, Math.ceil(input.containerCpus))}`];
      const { stdout } = await execFileP("java", [...flags, ...emulate, "-XX:+PrintFlagsFinal", "-version"], { maxBuffer: 16 * MIB });
      const f = parseFlags(stdout);

      // exactly the chosen collector: ergonomics did not fall back to SerialGC
      for (const [gc, flag] of Object.entries(GC_FLAG)) expect(f.get(flag), flag).toBe(String(gc === input.gc));
      expect(f.get("UseSerialGC")).toBe("false");
      if (input.maxGcPauseMillis !== undefined) expect(f.get("MaxGCPauseMillis")).toBe(String(input.maxGcPauseMillis));
      if (input.g1RegionSizeMiB !== undefined) expect(f.get("G1HeapRegionSize")).toBe(String(input.g1RegionSizeMiB * MIB));
      if (input.parallelGcThreads !== undefined) expect(f.get("ParallelGCThreads")).toBe(String(input.parallelGcThreads));
      expect(Number(f.get("MaxRAMPercentage"))).toBe(input.maxRamPercentage);
      if (input.initialRamPercentage !== undefined) expect(Number(f.get("InitialRAMPercentage"))).toBe(input.initialRamPercentage);
      expect(f.get("ExitOnOutOfMemoryError")).toBe("true");

      // the heap the JVM chose is ours, aligned up to its heap alignment (at most a 32 MiB region):
      // 512 MiB × 70 % = 358.4 MiB becomes 360 MiB, 8192 MiB × 80 % with 32 MiB regions 6560 MiB.
      const heap = Number(f.get("MaxHeapSize"));
      const exact = (input.containerMemoryMiB * MIB * input.maxRamPercentage) / 100;
      expect(heap).toBeGreaterThanOrEqual(maxHeapMiB * MIB);
      expect(heap - exact).toBeLessThan(32 * MIB);
    });
  }
});

// ---- Postgres ----------------------------------------------------------------------------------

const UNIT_KB: Record<string, number> = { kB: 1, MB: 1024, GB: 1024 * 1024 };

/** "1966kB" → 1966; "1GB" → 1048576. */
function toKb(value: string): number | undefined {
  const m = /^(\d+)(kB|MB|GB)$/.exec(value);
  return m ? Number(m[1]) * UNIT_KB[m[2]!]! : undefined;
}

/** pg_settings' unit ("8kB", "kB", "MB") in kB. */
function unitKb(unit: string): number {
  const m = /^(\d*)(kB|MB|GB)$/.exec(unit);
  if (!m) throw new Error(`unexpected pg_settings unit ${unit}`);
  return (m[1] ? Number(m[1]) : 1) * UNIT_KB[m[2]!]!;
}

describe.concurrent("Postgres settings in a throwaway postgres", () => {
  for (const c of cases) {
    it(c.name, { timeout: 180_000 }, async () => {
      const server = await startPostgres({ settings: c.postgres });
      const client = new pg.Client({ connectionString: server.url });
      try {
        await client.connect();
        const names = Object.keys(c.postgres);
        const { rows } = await client.query<{ name: string; setting: string; unit: string | null; source: string; vartype: string }>(
          "select name, setting, unit, source, vartype from pg_settings where name = any($1::text[])",
          [names],
        );
        const byName = new Map(rows.map((r) => [r.name, r]));
        for (const [name, want] of Object.entries(c.postgres)) {
          const row = byName.get(name);
          expect(row, `${name} exists`).toBeDefined();
          if (!row) continue;
          expect(row.source, `${name} source`).toBe("command line");
          const kb = toKb(want);
          if (kb !== undefined && row.unit) {
            // Postgres stores memory in its own unit and rounds to the nearest one (wal_buffers
            // 1966kB → 246 × 8kB pages).
            expect(Number(row.setting), `${name}=${want}`).toBe(Math.round(kb / unitKb(row.unit)));
          } else if (row.vartype === "real" || row.vartype === "integer") {
            expect(Number(row.setting), `${name}=${want}`).toBe(Number(want));
          } else {
            expect(row.setting, name).toBe(want);
          }
        }
        // and what an operator would type: SHOW agrees for values already in Postgres's units
        const shared = (await client.query<{ shared_buffers: string }>("show shared_buffers")).rows[0]!.shared_buffers;
        expect(shared).toBe(c.postgres.shared_buffers);
      } finally {
        await client.end().catch(() => undefined);
        await server.stop();
      }
    });
  }
});

// ---- Redis -------------------------------------------------------------------------------------

describe.concurrent("Redis arguments in a throwaway redis-server", () => {
  for (const c of cases) {
    it(c.name, { timeout: 120_000 }, async () => {
      const server = await startRedis({ args: c.redis.args });
      const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await client.connect();
        for (const [key, want] of Object.entries(c.redis.config)) {
          expect(await client.config("GET", key), key).toEqual([key, want]);
        }
      } finally {
        client.disconnect();
        await server.stop();
      }
    });
  }
});

// ---- RabbitMQ ----------------------------------------------------------------------------------

/** The locally installed broker's version, from /usr/lib/rabbitmq/lib/rabbitmq_server-<version>. */
function localRabbitVersion(): number[] {
  const dir = readdirSync("/usr/lib/rabbitmq/lib").find((d) => d.startsWith("rabbitmq_server-")) ?? "rabbitmq_server-0";
  return dir.slice("rabbitmq_server-".length).split(".").map(Number);
}
const atLeast = (v: number[], want: number[]): boolean => {
  for (let k = 0; k < want.length; k++) if ((v[k] ?? 0) !== want[k]) return (v[k] ?? 0) > want[k]!;
  return true;
};
// `default_queue_type` exists from 3.13.3 (rabbitmq-server#11163); the images we ship are newer,
// but an older local broker would refuse to boot on the unknown key.
const LOCAL_RABBIT = localRabbitVersion();
const KNOWS_DEFAULT_QUEUE_TYPE = atLeast(LOCAL_RABBIT, [3, 13, 3]);

async function rabbitEval(node: string, expr: string): Promise<string> {
  const { stdout } = await execFileP("rabbitmqctl", ["-q", "-n", node, "eval", expr]);
  return stdout.trim();
}

// One node, for one preset: a node boot costs ~7 s idle (over a minute for five at once on a busy
// 2-CPU runner), and every preset's conf has the same keys and differs only in numbers, which the
// unit tests in tuning.rabbitmq.test.ts cover. The balanced preset is the production default.
const rabbitCases = cases.filter((c) => c.rabbitmq !== undefined);
const rabbitCase = rabbitCases.find((c) => c.name === "preset balanced") ?? rabbitCases[0];

describe(`rabbitmq.conf in a throwaway RabbitMQ ${LOCAL_RABBIT.join(".")} node`, () => {
  for (const c of rabbitCase ? [rabbitCase] : []) {
    const r = c.rabbitmq;
    if (!r) continue;
    it(c.name, { timeout: 240_000 }, async () => {
      const conf = KNOWS_DEFAULT_QUEUE_TYPE ? r.conf : r.conf.replace(/^default_queue_type = .*$/m, "");
      const node = await startRabbitMQ({ conf });
      try {
        // The node booted, so every key parsed; now each is in effect with our value.
        expect(await rabbitEval(node.node, "vm_memory_monitor:get_memory_limit().")).toBe(String(r.watermarkBytes));
        expect(await rabbitEval(node.node, "rabbit_disk_monitor:get_disk_free_limit().")).toBe(r.settings["disk_free_limit.absolute"]);
        expect(await rabbitEval(node.node, "application:get_env(rabbit, consumer_timeout).")).toBe(`{ok,${r.settings.consumer_timeout}}`);
        expect(await rabbitEval(node.node, "application:get_env(rabbit, loopback_users).")).toBe("{ok,[<<\"guest\">>]}");
        if (KNOWS_DEFAULT_QUEUE_TYPE) {
          expect(await rabbitEval(node.node, "application:get_env(rabbit, default_queue_type).")).toBe(`{ok,${r.settings.default_queue_type}}`);
        }
      } finally {
        await node.stop();
      }
    });
  }
});

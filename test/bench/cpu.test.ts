import { describe, expect, it } from "vitest";
import { attributeCpu, cpuPerJob, parseStatCpuMs, type ProcCpu } from "../../bench/lib/cpu.js";

describe("parseStatCpuMs", () => {
  it("adds utime and stime (fields 14 and 15), in ms at 100 ticks a second", () => {
    const stat = "1234 (node) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 11 0 500 0 0";
    expect(parseStatCpuMs(stat)).toBe(2800);
  });

  it("copes with spaces and parentheses in the process name", () => {
    const stat = "77 (postgres: a (b) c) S 1 77 77 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 500 0 0";
    expect(parseStatCpuMs(stat)).toBe(100);
  });
});

describe("attributeCpu", () => {
  const p = (pid: number, cmd: string, cpuMs: number): ProcCpu => ({ pid, cmd, cpuMs });

  it("charges deltas to the named pids and to the backends of the own database only", () => {
    const before = [p(1, "node worker", 100), p(2, "node api", 50), p(10, "postgres: postgres bench_db 127.0.0.1(1) idle", 20), p(11, "postgres: postgres other_db 127.0.0.1(2) idle", 5)];
    const after = [
      p(1, "node worker", 400),
      p(2, "node api", 60),
      p(10, "postgres: postgres bench_db 127.0.0.1(1) idle", 120),
      p(11, "postgres: postgres other_db 127.0.0.1(2) idle", 900),
      // opened during the run: counts from zero
      p(12, "postgres: postgres bench_db 127.0.0.1(3) idle", 30),
      p(13, "postgres: postgres bench_db_2 127.0.0.1(4) idle", 70),
    ];
    expect(attributeCpu(before, after, { pids: { workers: [1], api: [2] }, database: "bench_db" })).toEqual({ workers: 300, api: 10, "postgres (own database)": 130 });
  });

  it("reports every named component, at 0 when its processes are gone", () => {
    expect(attributeCpu([], [], { pids: { workers: [99] } })).toEqual({ workers: 0 });
  });
});

describe("cpuPerJob", () => {
  it("takes each component's median per job and the median of the per-run totals", () => {
    const samples = [{ cpuMs: { workers: 100, api: 300 } }, { cpuMs: { workers: 200, api: 100 } }, { cpuMs: { workers: 300, api: 200 } }];
    expect(cpuPerJob(samples, 100)).toEqual({ workers: 2, api: 2, total: 4 });
    expect(cpuPerJob([{ cpuMs: {} }], 10)).toEqual({});
  });
});

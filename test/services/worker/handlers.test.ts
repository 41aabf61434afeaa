import { describe, expect, it } from "vitest";
import { createHandlerRegistry, HandlerError, silentLogger } from "../../../services/handlers/index.js";

const ctx = (signal = new AbortController().signal) => ({ jobId: "j", claim: 1, attempt: 1, maxAttempts: 3, workerId: "w", signal, logger: silentLogger });

describe("builtin handlers", () => {
  const registry = createHandlerRegistry();

  it("registers noop, sleep, fail and hash", () => {
    expect(registry.types()).toEqual(["fail", "hash", "noop", "sleep"]);
  });

  it("validates payloads with a readable message", () => {
    expect(registry.validate("sleep", { ms: 5 })).toEqual({ ok: true, payload: { ms: 5 } });
    const bad = registry.validate("sleep", { ms: -1 });
    expect(bad.ok).toBe(false);
    expect(bad).toMatchObject({ reason: "invalid_payload", issues: [{ path: "payload.ms" }] });
    expect(registry.validate("nope", {})).toMatchObject({ ok: false, message: expect.stringMatching(/no handler .*"nope"/) });
    expect(registry.validate("nope", {})).toMatchObject({ reason: "unknown_type", issues: [{ path: "type" }] });
  });

  it("fail throws a HandlerError carrying retryable", async () => {
    const h = registry.get("fail")!;
    await expect(h.run(h.parse!({ message: "boom", retryable: true }), ctx())).rejects.toMatchObject({ message: "boom", retryable: true });
    await expect(h.run(h.parse!({}), ctx())).rejects.toBeInstanceOf(HandlerError);
  });

  it("hash does real work and is deterministic", async () => {
    const h = registry.get("hash")!;
    const a = (await h.run(h.parse!({ rounds: 20_001 }), ctx())) as { digest: string };
    const b = (await h.run(h.parse!({ rounds: 20_001 }), ctx())) as { digest: string };
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toEqual(b);
  });

  it("sleep stops when aborted", async () => {
    const ac = new AbortController();
    const h = registry.get("sleep")!;
    const p = h.run({ ms: 60_000 }, ctx(ac.signal));
    ac.abort(new Error("lease lost"));
    await expect(p).rejects.toThrow("lease lost");
  });

  it("refuses duplicate and malformed names", () => {
    expect(() => registry.register("noop", { run: async () => null })).toThrow(/already registered/);
    expect(() => registry.register("Bad Name", { run: async () => null })).toThrow(/invalid job type/);
  });
});

import { describe, expect, it } from "vitest";
import { closeAll, coerceError, isRetryableError, TimeoutError, withTimeout } from "../../../services/core/errors.js";

describe("coerceError", () => {
  it("keeps Errors and wraps everything else", () => {
    const e = new Error("x");
    expect(coerceError(e)).toBe(e);
    expect(coerceError("boom").message).toBe("boom");
    expect(coerceError({ a: 1 })).toMatchObject({ message: 'non-error thrown: {"a":1}', cause: { a: 1 } });
    expect(coerceError(undefined).message).toMatch(/non-error thrown/);
  });
});

describe("isRetryableError", () => {
  const withCode = (code: string | number) => Object.assign(new Error("e"), { code });
  it("knows transient Postgres, AMQP and socket failures from permanent ones", () => {
    for (const c of ["40001", "40P01", "57P01", "08006", "ECONNREFUSED", 320, 506]) expect(isRetryableError(withCode(c))).toBe(true);
    for (const c of ["23505", "42601", "22P02", 404, 406]) expect(isRetryableError(withCode(c))).toBe(false);
    expect(isRetryableError(new TimeoutError("slow"))).toBe(true);
    expect(isRetryableError(new Error("outer", { cause: withCode("ECONNRESET") }))).toBe(true);
  });
});

describe("closeAll", () => {
  it("runs every step and throws one AggregateError naming each failure", async () => {
    const ran: string[] = [];
    const err = await closeAll([
      ["a", () => void ran.push("a")],
      ["b", async () => { ran.push("b"); throw new Error("b broke"); }],
      ["c", () => { ran.push("c"); throw "c broke"; }],
    ]).catch((e: unknown) => e);
    expect(ran).toEqual(["a", "b", "c"]);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual(["b: b broke", "c: c broke"]);
  });

  it("withTimeout rejects with a TimeoutError", async () => {
    await expect(withTimeout(new Promise(() => {}), 10, "never")).rejects.toBeInstanceOf(TimeoutError);
    await expect(withTimeout(Promise.resolve(1), 1000, "now")).resolves.toBe(1);
  });
});

describe("isRetryableError, case by case", () => {
  const withCode = (code: string | number) => Object.assign(new Error("e"), { code });

  it("retries every socket-level failure of the peer", () => {
    for (const c of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]) {
      expect(isRetryableError(withCode(c)), c).toBe(true);
    }
    expect(isRetryableError(withCode("ENOENT"))).toBe(false);
  });

  it("retries pg's codeless connection failures by their message, and nothing else codeless", () => {
    expect(isRetryableError(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isRetryableError(new Error("timeout exceeded when trying to connect"))).toBe(true);
    expect(isRetryableError(new Error("Query read timeout"))).toBe(true);
    expect(isRetryableError(new Error("relation \"jobs\" does not exist"))).toBe(false);
  });

  it("follows the cause chain, but not into a thrown non-Error (its cause is itself)", () => {
    expect(isRetryableError(new Error("outer", { cause: new Error("inner") }))).toBe(false);
    expect(isRetryableError(new Error("outer", { cause: new Error("middle", { cause: withCode("40P01") }) }))).toBe(true);
    // coerceError keeps a thrown object as the cause of its wrapper: following it would recurse forever.
    expect(isRetryableError({ code: "23505" })).toBe(false);
    expect(isRetryableError("just a string")).toBe(false);
  });
});

describe("TimeoutError and withTimeout", () => {
  it("names the error and says what timed out after how long", async () => {
    expect(new TimeoutError("x").name).toBe("TimeoutError");
    await expect(withTimeout(new Promise(() => {}), 20, "broker connect")).rejects.toThrow("broker connect timed out after 20 ms");
  });
});

describe("closeAll, messages", () => {
  it("resolves when every step closes, and names all failures under the default message", async () => {
    await expect(closeAll([["a", () => undefined], ["b", async () => undefined]])).resolves.toBeUndefined();
    const original = new Error("socket gone");
    const err = (await closeAll([["redis", () => { throw original; }], ["pg", () => { throw 42; }]]).catch((e: unknown) => e)) as AggregateError;
    expect(err.message).toBe("shutdown failed: redis: socket gone; pg: non-error thrown: 42");
    expect(err.errors[0].cause).toBe(original);
    await expect(closeAll([["x", () => { throw new Error("no"); }]], "worker stop failed")).rejects.toThrow("worker stop failed: x: no");
  });
});

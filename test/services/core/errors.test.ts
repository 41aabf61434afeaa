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

import { beforeEach, describe, expect, it, vi } from "vitest";
import { isUuid } from "../../../services/core/uuid.js";

// uuidv7 keeps the last millisecond and counter in module state; each test gets a fresh module so
// that an exact timestamp is not masked by an id some earlier test made.
let uuidv7: (now?: number) => string;
beforeEach(async () => {
  vi.resetModules();
  ({ uuidv7 } = await import("../../../services/core/uuid.js"));
});

/** The 48-bit Unix milliseconds in the first 12 hex digits. */
const timestampOf = (id: string) => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
/** The 12-bit counter in rand_a (the three hex digits after the version). */
const counterOf = (id: string) => Number.parseInt(id.slice(15, 18), 16);

describe("uuidv7", () => {
  it("has version 7, the RFC variant and exactly the given millisecond up front", () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 6); // 1767323045006 = 0x019b7ca98c8e
    const id = uuidv7(now);
    expect(isUuid(id)).toBe(true);
    expect(id.slice(0, 13)).toBe("019b7ca9-8c8e");
    expect(timestampOf(id)).toBe(now);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
  });

  it("writes all 48 bits of the timestamp, the high 16 and the low 32", () => {
    expect(uuidv7(0xfedc_ba98_7654).slice(0, 13)).toBe("fedcba98-7654");
  });

  it("follows the clock forward and starts each new millisecond's counter below 8", () => {
    const t = Date.UTC(2026, 5, 1);
    const first = uuidv7(t);
    const later = uuidv7(t + 5);
    expect(timestampOf(first)).toBe(t);
    expect(timestampOf(later)).toBe(t + 5);
    expect(counterOf(first)).toBeLessThan(8);
    expect(counterOf(later)).toBeLessThan(8);
  });

  it("counts up within a millisecond and keeps the last millisecond when the clock steps back", () => {
    const t = Date.UTC(2026, 5, 1);
    const a = uuidv7(t);
    const b = uuidv7(t);
    const c = uuidv7(t - 1000); // clock stepped back a second
    expect([timestampOf(a), timestampOf(b), timestampOf(c)]).toEqual([t, t, t]);
    expect(counterOf(b)).toBe(counterOf(a) + 1);
    expect(counterOf(c)).toBe(counterOf(a) + 2);
    expect([a, b, c].sort()).toEqual([a, b, c]);
  });

  it("borrows the next millisecond when the counter wraps, and stays ordered", () => {
    const t = Date.UTC(2026, 5, 1);
    const ids = Array.from({ length: 4097 }, () => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const wrapped = ids.findIndex((id) => timestampOf(id) !== t);
    expect(wrapped).toBeGreaterThan(4096 - 8); // the counter starts below 8 and runs to 0xfff
    expect(timestampOf(ids[wrapped]!)).toBe(t + 1);
    expect(counterOf(ids[wrapped]!)).toBe(0);
    expect(counterOf(ids[wrapped - 1]!)).toBe(0xfff);
  });

  it("is unique and ordered within one process", () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("varies the random bits between ids of the same millisecond", () => {
    const t = Date.UTC(2026, 5, 1);
    const tails = new Set(Array.from({ length: 100 }, () => uuidv7(t).slice(19)));
    expect(tails.size).toBe(100);
  });
});

describe("isUuid", () => {
  it("accepts the canonical form in either case and rejects everything else", () => {
    expect(isUuid("019b7c82-e28e-7abc-8def-0123456789ab")).toBe(true);
    expect(isUuid("019B7C82-E28E-7ABC-8DEF-0123456789AB")).toBe(true);
    expect(isUuid("019b7c82e28e7abc8def0123456789ab")).toBe(false);
    expect(isUuid("x019b7c82-e28e-7abc-8def-0123456789ab")).toBe(false);
    expect(isUuid("019b7c82-e28e-7abc-8def-0123456789abc")).toBe(false);
    expect(isUuid("019b7c82-e28e-7abc-8def-0123456789ag")).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

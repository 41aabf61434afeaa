import { describe, expect, it } from "vitest";
import { isUuid, uuidv7 } from "../../../services/core/uuid.js";

describe("uuidv7", () => {
  it("has version 7, the RFC variant and the timestamp up front", () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    const id = uuidv7(now);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBeGreaterThanOrEqual(now);
  });

  it("is unique and ordered within one process", () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../../services/worker/backoff.js";

describe("retryDelayMs", () => {
  const o = { baseMs: 100, maxMs: 1_000 };
  it("doubles per attempt within [half, full] of the exponential step", () => {
    expect(retryDelayMs(1, o, () => 0)).toBe(50);
    expect(retryDelayMs(1, o, () => 1)).toBe(100);
    expect(retryDelayMs(3, o, () => 0)).toBe(200);
    expect(retryDelayMs(3, o, () => 1)).toBe(400);
  });
  it("is capped", () => {
    expect(retryDelayMs(50, o, () => 1)).toBe(1_000);
    expect(retryDelayMs(50, o, () => 0)).toBe(500);
  });
});

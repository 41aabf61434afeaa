// How a job's row and a handler's outcome are stored and read back (services/core/jobs/rows.ts):
// the JSON normalisation of errors, null for absent values, and timestamps as ISO text, through
// the real Postgres where it matters.
import { describe, expect, it } from "vitest";
import { errorToJson, json } from "../../../../services/core/jobs/rows.js";
import { repositoryFixture } from "./repository-fixture.js";

describe("errorToJson", () => {
  it("keeps an Error's name and message, and nothing else", () => {
    const err = new TypeError("bad input");
    expect(errorToJson(err)).toEqual({ name: "TypeError", message: "bad input" });
  });

  it("wraps a string, passes an object with a string message through, and stringifies the rest", () => {
    expect(errorToJson("plain")).toEqual({ message: "plain" });
    const shaped = { message: "shaped", code: 7 };
    expect(errorToJson(shaped)).toBe(shaped);
    expect(errorToJson({ message: 42 })).toEqual({ message: "[object Object]" });
    expect(errorToJson(null)).toEqual({ message: "null" });
    expect(errorToJson(undefined)).toEqual({ message: "undefined" });
    expect(errorToJson(12)).toEqual({ message: "12" });
  });
});

describe("json", () => {
  it("is SQL null for undefined and null, JSON text otherwise", () => {
    expect(json(undefined)).toBeNull();
    expect(json(null)).toBeNull();
    expect(json(0)).toBe("0");
    expect(json(false)).toBe("false");
    expect(json({ a: [1] })).toBe('{"a":[1]}');
  });
});

describe("rows read back from Postgres", () => {
  const fx = repositoryFixture();

  it("a fresh job has null result, error, lease and dispatch, and ISO timestamps", async () => {
    const { job } = await fx.repo.submit({ type: "noop" });
    expect(job).toMatchObject({ result: null, error: null, leaseExpiresAt: null, dispatchedAt: null, lockedBy: null, idempotencyKey: null });
    expect(job.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(job.runAfter).toMatch(/Z$/);
  });

  it("a completed job without a result reads null; a running one has an ISO lease", async () => {
    const { job } = await fx.repo.submit({ type: "noop" });
    const claimed = await fx.repo.claim(job.id, "w1", 60_000);
    if (!claimed.ok) throw new Error(claimed.message);
    expect(claimed.job.leaseExpiresAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(Date.parse(claimed.job.leaseExpiresAt!)).toBeGreaterThan(Date.now());
    const done = await fx.repo.complete(job.id, claimed.job.claim, "w1", undefined);
    if (!done.ok) throw new Error(done.message);
    expect(done.job.result).toBeNull();
    expect((await fx.pool.query("select result from jobs where id = $1::uuid", [job.id])).rows[0].result).toBeNull();
  });

  it("a failure stores the normalised error", async () => {
    const { job } = await fx.repo.submit({ type: "noop", maxAttempts: 1 });
    const claimed = await fx.repo.claim(job.id, "w1", 60_000);
    if (!claimed.ok) throw new Error(claimed.message);
    const failed = await fx.repo.fail(job.id, claimed.job.claim, "w1", { error: "disk full", retryable: false });
    if (!failed.ok) throw new Error(failed.message);
    expect(failed.job).toMatchObject({ state: "FAILED", error: { message: "disk full" } });
  });
});

/**
 * `jobstack local` against a dependency it cannot reach: one line per dependency naming the
 * variable and the address (not the password), exit 1, nothing started. Closed ports come from
 * spareport(), never the shared servers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { prettyLine } from "../../cli/local.js";
import { unreachable } from "../../cli/local-preflight.js";
import { run } from "../../cli/run.js";
import { AMQP_URL, PG_ADMIN_URL, REDIS_URL } from "../../harness/jobstack.js";
import { spareport } from "../../harness/ports.js";

const saved = process.env.DATABASE_URL;
afterEach(() => {
  if (saved === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved;
});

describe("jobstack local with an unreachable dependency", () => {
  it("ends with one line naming DATABASE_URL and the address, exit 1", async () => {
    const port = await spareport();
    process.env.DATABASE_URL = `postgres://jobstack:s3cret@127.0.0.1:${port}/jobs`;
    const err: string[] = [];
    const code = await run(["local", "--env", "dev", "--port", String(await spareport())], () => undefined, (s) => err.push(s));
    expect(code).toBe(1);
    expect(err).toEqual([`jobstack: cannot reach Postgres at 127.0.0.1:${port} (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${port}`]);
  });

  it("names each unreachable dependency, and none that answers", async () => {
    const [pg, redis, amqp] = [await spareport(), await spareport(), await spareport()];
    expect(await unreachable({ DATABASE_URL: PG_ADMIN_URL, REDIS_URL, AMQP_URL })).toEqual([]);
    const lines = await unreachable({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pg}/test`,
      REDIS_URL: `redis://:pw@127.0.0.1:${redis}`,
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqp}`,
    });
    expect(lines).toEqual([
      `cannot reach Postgres at 127.0.0.1:${pg} (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${pg}`,
      expect.stringMatching(new RegExp(`^cannot reach Redis at 127\\.0\\.0\\.1:${redis} \\(REDIS_URL\\): .*ECONNREFUSED`)),
      expect.stringMatching(new RegExp(`^cannot reach RabbitMQ at 127\\.0\\.0\\.1:${amqp} \\(AMQP_URL\\): .*ECONNREFUSED`)),
    ]);
    for (const line of lines) expect(line).not.toContain("pw@");
  });
});

describe("pretty log lines", () => {
  it("turns a pino JSON record into one readable line without the configuration dump", () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 7, hostname: "h", config: { apiToken: "x" }, msg: "starting worker" });
    const pretty = prettyLine(false)(line);
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: starting worker$/);
    expect(prettyLine(false)("plain text")).toBe("plain text");
  });
});

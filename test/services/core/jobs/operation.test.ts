// One operation, one statement (services/core/jobs/operation.ts): a named operation is prepared
// once per connection and reused, an unnamed one is not; on the real Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { run } from "../../../../services/core/jobs/operation.js";
import { getJob, listTransitions } from "../../../../services/core/jobs/operations/read.js";
import { createTestDatabase, type TestDatabase } from "../../../../harness/jobstack.js";

let db: TestDatabase;
let client: pg.Client;
beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const prepared = async () => (await client.query("select name from pg_prepared_statements order by name")).rows.map((r: { name: string }) => r.name);

describe("run", () => {
  it("prepares a named operation on the connection, and not an unnamed one", async () => {
    const id = "00000000-0000-7000-8000-000000000000";
    expect(await run(client, listTransitions, id)).toEqual([]);
    expect(await prepared()).toEqual([]);
    expect(await run(client, getJob, id)).toBeNull();
    expect(await run(client, getJob, id)).toBeNull();
    expect(await prepared()).toEqual(["jobstack_get"]);
  });
});

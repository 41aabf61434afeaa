/**
 * The OpenAPI document: valid OpenAPI 3.1 by a maintained validator, served without a token,
 * equal to the committed docs/openapi.json, describing every route fastify registers and no
 * route that does not exist, and generated from the very schemas the handlers validate with.
 */
import { readFileSync } from "node:fs";
import { validate } from "@readme/openapi-parser";
import type { FastifyInstance, RouteOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../services/api/app.js";
import { openApiDocument, openApiPath, openApiText, ROUTES } from "../../../services/api/openapi.js";
import { OPENAPI_FILE } from "../../../services/api/write-openapi.js";
import { call, createTestDatabase, startStack, type TestDatabase, type TestStack } from "./harness.js";

let db: TestDatabase;
let stack: TestStack;

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

/** The routes an app registers once ready, as "METHOD /pattern" (fastify's automatic HEAD routes left out). */
async function registeredRoutes(app: FastifyInstance): Promise<string[]> {
  const routes: string[] = [];
  app.addHook("onRoute", (route: RouteOptions) => {
    for (const method of [route.method].flat()) if (method !== "HEAD") routes.push(`${method} ${route.url}`);
  });
  await app.ready();
  return routes.sort();
}

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(structuredClone(openApiDocument()) as never);
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual([]);
    expect(result.specification).toBe("OpenAPI");
    expect(openApiDocument().openapi).toBe("3.1.0");
  });

  it("is served at GET /openapi.json without a token", async () => {
    const res = await call(`${stack.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual(openApiDocument());
  });

  it("equals the committed docs/openapi.json (run `npm run openapi` after changing a route or schema)", () => {
    expect(readFileSync(OPENAPI_FILE, "utf8")).toBe(openApiText(openApiDocument()));
  });

  it("describes every route the api registers, and every route it describes exists", async () => {
    const app = buildApp(stack.deps, { apiToken: stack.token, operatorToken: stack.operatorToken });
    try {
      const registered = await registeredRoutes(app);
      const described = ROUTES.map((r) => `${r.method} ${r.url}`).sort();
      expect(described).toEqual(registered);
      for (const r of ROUTES) expect(app.hasRoute({ method: r.method, url: r.url }), `${r.method} ${r.url}`).toBe(true);
      const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
      const documented = Object.entries(paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
      expect(documented.sort()).toEqual(registered.map((r) => r.replace(/\S+$/, (u) => openApiPath(u))).sort());
    } finally {
      await app.close();
    }
  });

  it("states the bearer scheme, the error shape, the operator routes and examples", () => {
    const doc = openApiDocument() as any;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message", "details"]);
    expect(doc.paths["/jobs/retry"].post.responses["403"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    expect(doc.paths["/jobs/{id}/cancel"].post["x-jobstack-role"]).toBe("operator");
    expect(doc.paths["/jobs"].get.responses["403"]).toBeUndefined();
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.components.schemas.Job.examples).toHaveLength(1);
    expect(doc.paths["/jobs"].post.requestBody.content["application/json"].schema.examples).toHaveLength(1);
  });

  it("carries the handlers' own limits (one source: the zod schemas)", () => {
    const doc = openApiDocument() as any;
    const params = Object.fromEntries(doc.paths["/jobs"].get.parameters.map((p: any) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(["createdAfter", "createdBefore", "cursor", "limit", "state", "type"]);
    expect(params.limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 500, default: 50 });
    expect(params.createdAfter.schema).toMatchObject({ type: "string", format: "date-time" });
    expect(doc.paths["/jobs/{id}"].get.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    const bulk = doc.paths["/jobs/retry"].post.requestBody.content["application/json"].schema;
    expect(bulk.required).toEqual(["filter"]);
    expect(bulk.properties.filter.properties.ids).toMatchObject({ type: "array", maxItems: 1000 });
  });
});

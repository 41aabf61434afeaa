/** `GET /openapi.json`: the API's description (services/api/openapi.ts), no token needed. */
import type { FastifyInstance } from "fastify";
import { openApiDocument } from "../openapi.js";

export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  // Built once: it depends on nothing but the schemas.
  const body = JSON.stringify(openApiDocument());
  app.get("/openapi.json", async (_request, reply) => reply.type("application/json; charset=utf-8").send(body));
}

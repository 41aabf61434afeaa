/** `npm run openapi`: writes docs/openapi.json from the route table and zod schemas (services/api/openapi.ts). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openApiDocument, openApiText } from "./openapi.js";

export const OPENAPI_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/openapi.json");

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, openApiText(openApiDocument()));
  console.log(`written: ${path.relative(process.cwd(), OPENAPI_FILE)}`);
}

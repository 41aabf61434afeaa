/**
 * `GET /ui`: the operator dashboard (docs/dashboard.md), plain files from services/api/ui/ read
 * once at start. The page itself is public, like any login page: it holds no data, and every
 * call it makes goes to the `/jobs*` routes with the operator's bearer token.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles and images only from
 * /ui/ on this origin (no inline code, no `eval`), requests only to this origin, no frames, no
 * forms posting elsewhere. So the page works offline and injected markup cannot run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import { ApiError } from "../http-errors.js";

export const UI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "ui");

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The files under /ui/ and their media types; anything else is a 404 (no directory serving). */
export const UI_FILES = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "icon.svg": "image/svg+xml",
} as const;
export type UiFile = keyof typeof UI_FILES;
const isUiFile = (name: string): name is UiFile => Object.hasOwn(UI_FILES, name);

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const contents = new Map(Object.keys(UI_FILES).map((name) => [name, readFileSync(path.join(UI_DIR, name))]));

  const send = (reply: FastifyReply, name: UiFile) =>
    reply
      .header("content-type", UI_FILES[name])
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cross-origin-opener-policy", "same-origin")
      // Files change only with a new image; revalidating each load keeps an upgrade visible at once.
      .header("cache-control", "no-cache")
      .send(contents.get(name));

  app.get("/ui", async (_request, reply) => send(reply, "index.html"));
  app.get<{ Params: { file: string } }>("/ui/:file", async (request, reply) => {
    const file = request.params.file || "index.html";
    if (!isUiFile(file)) throw new ApiError(404, "not_found", `no dashboard file ${JSON.stringify(file)}`, { part: "params", path: "file", allowed: Object.keys(UI_FILES) });
    return send(reply, file);
  });
}

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
const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "icon.svg": "image/svg+xml",
};

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const contents = new Map(Object.keys(FILES).map((name) => [name, readFileSync(path.join(UI_DIR, name))]));

  const send = (reply: FastifyReply, name: string) =>
    reply
      .header("content-type", FILES[name])
      .header("content-security-policy", CONTENT_SECURITY_POLICY)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cross-origin-opener-policy", "same-origin")
      // Files change only with a new image; revalidating each load keeps an upgrade visible at once.
      .header("cache-control", "no-cache")
      .send(contents.get(name));

  app.get("/ui", async (_request, reply) => send(reply, "index.html"));
  app.get("/ui/", async (_request, reply) => send(reply, "index.html"));
  for (const name of Object.keys(FILES)) {
    app.get(`/ui/${name}`, async (_request, reply) => send(reply, name));
  }
}

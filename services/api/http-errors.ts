/**
 * Every error the API answers with has one shape: `{"error": {"code", "message", "details"}}`.
 *
 * `ApiError` is thrown by routes and hooks; `errorHandler` maps it, fastify's own errors (body
 * too large, unsupported media type, malformed JSON) and anything unexpected to that shape.
 * Transient infrastructure failures (core's retryable-error table) are a 503 with Retry-After;
 * anything else unexpected is logged with its stack and answered with a bare 500 — a stack
 * trace or driver message never reaches the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { coerceError, isRetryableError } from "../core/errors.js";
import { discardBody } from "./linger.js";

export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, details: unknown = null): ErrorBody {
  return { error: { code, message, details } };
}

/**
 * fastify's own client errors, by code. Their messages are safe to show (they describe the
 * request, not the server), but the codes are renamed to the API's vocabulary.
 */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; details: unknown }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "payload_too_large", details: { part: "body" } },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    details: { part: "headers", path: "content-type", expected: "application/json" },
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "bad_request", details: { part: "headers", path: "content-length" } },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "bad_request", details: { part: "body" } },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "bad_request", details: { part: "body" } },
  FST_ERR_BAD_URL: { status: 400, code: "bad_request", details: { part: "url" } },
};

export function errorHandler(raw: unknown, request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
  if (raw instanceof ApiError) {
    void reply.code(raw.statusCode).send(errorBody(raw.code, raw.message, raw.details));
    return;
  }
  const err = coerceError(raw) as FastifyError;
  const known = err.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[err.code];
  if (known) {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      // Answer once the rest of the body was read (or a short time passed): see linger.ts.
      return discardBody(request.raw).then(() => {
        void reply.code(known.status).header("connection", "close").send(errorBody(known.code, err.message, known.details));
      });
    }
    void reply.code(known.status).send(errorBody(known.code, err.message, known.details));
    return;
  }
  // JSON.parse failures surface as SyntaxError with statusCode 400 from fastify's parser.
  if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    void reply.code(err.statusCode).send(errorBody("bad_request", err.message, { part: "body" }));
    return;
  }
  if (isRetryableError(err)) {
    // Postgres down or restarting: the request was fine and will work again; say so, not 500.
    request.log.warn({ err }, "dependency unavailable");
    void reply.code(503).header("retry-after", "5").send(errorBody("unavailable", "a dependency is unavailable; try again shortly"));
    return;
  }
  request.log.error({ err }, "unhandled error");
  void reply.code(500).send(errorBody("internal", "internal server error"));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split("?")[0] ?? "";
  void reply.code(404).send(errorBody("not_found", `no route ${request.method} ${path}`, { method: request.method, path }));
}

/**
 * Bearer-token authentication for the `/jobs*` routes.
 *
 * The token is compared in constant time: both sides are hashed to SHA-256 first, so
 * `timingSafeEqual` always sees two 32-byte buffers and neither the token's content nor its
 * length leaks through response timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { ApiError } from "./http-errors.js";

const BEARER = /^Bearer +(\S+) *$/i;

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** True when the `Authorization` header carries exactly `Bearer <expected>`. */
export function bearerMatches(expected: string, header: string | undefined): boolean {
  return makeMatcher(expected)(header);
}

function makeMatcher(expected: string): (header: string | undefined) => boolean {
  const expectedDigest = digest(expected);
  return (header) => {
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1];
    // Hash and compare even when the header is missing or malformed, so those answers take as
    // long as a wrong token does.
    const equal = timingSafeEqual(expectedDigest, digest(presented ?? ""));
    return equal && presented !== undefined && expected.length > 0;
  };
}

/** A fastify `onRequest` hook that answers 401 unless the request carries the token. */
export function requireBearer(expected: string) {
  const matches = makeMatcher(expected);
  return async function bearerHook(request: FastifyRequest): Promise<void> {
    if (!matches(request.headers.authorization)) {
      throw new ApiError(401, "unauthorized", "missing or invalid bearer token", {
        header: "authorization",
        expected: "Bearer <API_TOKEN>",
      });
    }
  };
}

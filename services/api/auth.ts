/**
 * Bearer-token authentication and the two roles of the `/jobs*` routes (docs/api-access.md):
 * `submit` (API_TOKEN: submit and read) and `operator` (OPERATOR_TOKEN: also retry and cancel,
 * single and bulk). A missing or unknown token is a 401; a submit token on an operator route
 * is a 403.
 *
 * Tokens are compared in constant time: both sides are hashed to SHA-256 first, so
 * `timingSafeEqual` always sees two 32-byte buffers and neither the token's content nor its
 * length leaks through response timing. Every configured token is compared on every request,
 * so the answer's timing does not say which one (if any) matched.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { ApiError } from "./http-errors.js";

const BEARER = /^Bearer +(\S+) *$/i;

export type Role = "submit" | "operator";

/** What each role may do, widest last: an operator may do everything a submitter may. */
const RANK: Record<Role, number> = { submit: 0, operator: 1 };

export interface ApiTokens {
  /** API_TOKEN: submit and read. */
  readonly submit: string;
  /** OPERATOR_TOKEN; "" or absent: no one holds the operator role. */
  readonly operator?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the bearer hook of the `/jobs*` scope; null before it ran. */
    jobstackRole: Role | null;
  }
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** True when the `Authorization` header carries exactly `Bearer <expected>`. */
export function bearerMatches(expected: string, header: string | undefined): boolean {
  const presented = presentedToken(header);
  return makeMatcher(expected)(presented, digest(presented ?? ""));
}

function presentedToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/** Compares against the presented token's digest, which the caller computes once per request. */
function makeMatcher(expected: string): (presented: string | undefined, presentedDigest: Buffer) => boolean {
  const expectedDigest = digest(expected);
  return (presented, presentedDigest) => timingSafeEqual(expectedDigest, presentedDigest) && presented !== undefined && expected.length > 0;
}

/** The role a request's `Authorization` header grants, or null (no or unknown token). */
export function roleResolver(tokens: ApiTokens): (header: string | undefined) => Role | null {
  const submit = makeMatcher(tokens.submit);
  const operator = makeMatcher(tokens.operator ?? "");
  return (header) => {
    const presented = presentedToken(header);
    // Hashed even when the header is missing or malformed, so those answers take as long as a
    // wrong token does; once, for both comparisons.
    const d = digest(presented ?? "");
    const isSubmit = submit(presented, d);
    const isOperator = operator(presented, d);
    return isOperator ? "operator" : isSubmit ? "submit" : null;
  };
}

/** A fastify `onRequest` hook that answers 401 unless the request carries one of the tokens. */
export function requireBearer(tokens: ApiTokens) {
  const resolve = roleResolver(tokens);
  return async function bearerHook(request: FastifyRequest): Promise<void> {
    const role = resolve(request.headers.authorization);
    if (role === null) {
      throw new ApiError(401, "unauthorized", "missing or invalid bearer token", {
        header: "authorization",
        expected: "Bearer <API_TOKEN or OPERATOR_TOKEN>",
      });
    }
    request.jobstackRole = role;
  };
}

/** A route-level `preHandler` that answers 403 unless the bearer hook granted at least `role`. */
export function requireRole(role: Role) {
  return async function roleHook(request: FastifyRequest): Promise<void> {
    const held = request.jobstackRole;
    if (held === null || RANK[held] < RANK[role]) {
      throw new ApiError(403, "forbidden", `this route needs the ${role} token (${role === "operator" ? "OPERATOR_TOKEN" : "API_TOKEN"})`, {
        header: "authorization",
        required: role,
        held,
      });
    }
  };
}

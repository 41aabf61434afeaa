/**
 * fast-check arbitraries of hostile requests to the api: each yields the raw request and what a
 * robust api must answer. `4xx` means the request is wrong whatever its details; `not-5xx` means
 * it may happen to be valid (a generated body can be a well-formed submission), so a 2xx is fine
 * too. Never a 5xx, never a dropped connection.
 */
import fc from "fast-check";
import type { RawRequest } from "./raw-http.js";

export interface HostileCase {
  readonly kind: string;
  readonly req: RawRequest;
  readonly expect: "4xx" | "not-5xx";
}

const JOB_ID = "0190a0b0-c0d0-7000-8000-000000000001";

/** Strings that trip up parsers, databases and logs. */
const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "\u0000", "a\u0000b", "\ud800", "\udfff", "x\ud83dy", "\ud83d\ude00", "\ufeff", "\u202e", "\u2028\u2029",
    "'; drop table jobs; --", "\\", "\"", "%00", "../../etc/passwd", "${jndi:ldap://x}", "<script>", "\r\n\r\nHTTP/1.1 200 OK",
    "", " ", "NaN", "null", "0", "-1", "1e309", "__proto__", "constructor",
  ),
);

/** JSON string literals Postgres cannot store: lone-surrogate escapes (not Unicode text) and NUL. */
const unstorableEscapes = fc.constantFrom('"\\ud800"', '"\\udc00\\ud800"', '"a\\u0000b"', '"\\u0000"', '"\\uD83D"', '"x\\uDFFFy"');
/** Edge cases that are valid Unicode and must be stored as they are. */
const storableEscapes = fc.constantFrom('"\\uFFFF"', '"\\uDBFF\\uDFFF"', '"\\ufeff"', '"\\u202e"', '"\\ud83d\\ude00"', '"\\u0001"', '"\\u2028"');

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return "null";
  }
}

/** A request to POST /jobs with the given body bytes. */
function postJobs(token: string, body: Buffer, contentType = "application/json", extra: Array<[string, string]> = []): RawRequest {
  return { method: "POST", path: "/jobs", headers: [["Authorization", `Bearer ${token}`], ["Content-Type", contentType], ...extra], body };
}

function nested(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

export function hostileRequests(token: string): fc.Arbitrary<HostileCase> {
  const validBody = fc.record({
    type: fc.constantFrom("noop", "sleep", "record"),
    payload: fc.constantFrom({}, { ms: 1 }),
  });

  const malformedJson: fc.Arbitrary<HostileCase> = fc
    .oneof(
      fc.string({ unit: "binary", maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return true;
        }
      }),
      fc.constantFrom("{", "}", "[", '{"type":', '{"type":"noop",}', "{'type':'noop'}", "NaN", "undefined", '{"type":"noop"}{', "\u0000", ""),
    )
    .map((text) => ({ kind: "malformed-json", req: postJobs(token, Buffer.from(text, "utf8")), expect: "4xx" as const }));

  const truncatedJson: fc.Arbitrary<HostileCase> = fc
    .tuple(validBody, fc.double({ min: 0, max: 0.999, noNaN: true }))
    .map(([body, cut]) => {
      const text = JSON.stringify(body);
      return { kind: "truncated-json", req: postJobs(token, Buffer.from(text.slice(0, Math.floor(text.length * cut)), "utf8")), expect: "4xx" as const };
    });

  const wrongTypes: fc.Arbitrary<HostileCase> = fc
    .record(
      {
        type: fc.oneof(fc.anything(), nastyString, fc.constantFrom("noop", "NOOP", "noop ", "does-not-exist")),
        payload: fc.oneof(fc.anything(), fc.constantFrom({ ms: -1 }, { ms: "1" }, { ms: 1e12 }, { rounds: 0 })),
        maxAttempts: fc.oneof(fc.anything(), fc.constantFrom(0, -1, 1.5, 101, 1e308, "3", null)),
        idempotencyKey: fc.oneof(fc.anything(), nastyString, fc.string({ minLength: 201, maxLength: 300 })),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((body) => ({ kind: "wrong-types", req: postJobs(token, Buffer.from(json(body), "utf8")), expect: "not-5xx" as const }));

  const nonObjectBody: fc.Arbitrary<HostileCase> = fc
    .oneof(fc.jsonValue(), fc.constant(null), fc.array(fc.anything(), { maxLength: 5 }))
    .filter((v) => v === null || typeof v !== "object" || Array.isArray(v))
    .map((v) => ({ kind: "not-an-object", req: postJobs(token, Buffer.from(json(v), "utf8")), expect: "4xx" as const }));

  const unicode: fc.Arbitrary<HostileCase> = fc
    .tuple(
      fc.constantFrom("type", "payload-value", "payload-key", "idempotencyKey"),
      fc.oneof(unstorableEscapes.map((t) => [t, true] as const), storableEscapes.map((t) => [t, false] as const)),
      fc.constantFrom("noop", "sleep"),
    )
    .map(([where, [trick, unstorable], type]) => {
      const text =
        where === "type" ? `{"type":${trick}}`
        : where === "payload-value" ? `{"type":"${type}","payload":{"s":${trick}}}`
        : where === "payload-key" ? `{"type":"noop","payload":{${trick}:1}}`
        : `{"type":"noop","idempotencyKey":${trick}}`;
      // Unstorable strings are refused wherever they are; storable ones may make a valid job.
      return { kind: `unicode-${unstorable ? "unstorable" : "edge"}-${where}`, req: postJobs(token, Buffer.from(text, "utf8")), expect: unstorable ? ("4xx" as const) : ("not-5xx" as const) };
    });

  /** Invalid UTF-8 byte sequences inside a JSON string (a lone surrogate encoded as bytes, overlong forms). */
  const invalidUtf8: fc.Arbitrary<HostileCase> = fc
    .constantFrom([0xed, 0xa0, 0x80], [0xff], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x00], [0xe2, 0x82])
    .chain((bad) => fc.constantFrom("type", "payload").map((where) => [bad, where] as const))
    .map(([bad, where]) => {
      const head = Buffer.from(where === "type" ? '{"type":"no' : '{"type":"noop","payload":{"s":"', "utf8");
      const tail = Buffer.from(where === "type" ? 'op"}' : '"}}', "utf8");
      return { kind: `invalid-utf8-${where}`, req: postJobs(token, Buffer.concat([head, Buffer.from(bad), tail])), expect: "not-5xx" as const };
    });

  const deepNesting: fc.Arbitrary<HostileCase> = fc
    .tuple(fc.integer({ min: 65, max: 200_000 }), fc.constantFrom("array" as const, "object" as const), fc.constantFrom("payload", "type", "top"))
    .map(([depth, kind, where]) => {
      const inner = nested(depth, kind);
      const text = where === "payload" ? `{"type":"noop","payload":${inner}}` : where === "type" ? `{"type":${inner}}` : inner;
      return { kind: `nested-${where}`, req: postJobs(token, Buffer.from(text, "utf8")), expect: "4xx" as const };
    });

  const hugeBody: fc.Arbitrary<HostileCase> = fc
    .tuple(fc.integer({ min: 1_100_000, max: 3_000_000 }), fc.constantFrom("string", "array", "keys"))
    .map(([size, shape]) => {
      const text =
        shape === "string" ? `{"type":"noop","payload":{"s":"${"x".repeat(size)}"}}`
        : shape === "array" ? `{"type":"noop","payload":[${"1,".repeat(size / 2)}1]}`
        : `{"type":"noop","payload":{${Array.from({ length: Math.ceil(size / 8) }, (_, i) => `"k${i}":1`).join(",")}}}`;
      return { kind: `huge-${shape}`, req: postJobs(token, Buffer.from(text, "utf8")), expect: "4xx" as const };
    });

  /** Under the body limit but large: a long string or many keys. */
  const largeBody: fc.Arbitrary<HostileCase> = fc
    .tuple(fc.integer({ min: 10_000, max: 900_000 }), fc.constantFrom("string", "keys", "idempotencyKey", "type"))
    .map(([size, shape]) => {
      const text =
        shape === "string" ? `{"type":"noop","payload":{"s":"${"y".repeat(size)}"}}`
        : shape === "keys" ? `{"type":"noop","payload":{${Array.from({ length: Math.floor(size / 14) }, (_, i) => `"k${i}":${i}`).join(",")}}}`
        : shape === "idempotencyKey" ? `{"type":"noop","idempotencyKey":"${"k".repeat(size)}"}`
        : `{"type":"${"t".repeat(size)}"}`;
      return { kind: `large-${shape}`, req: postJobs(token, Buffer.from(text, "utf8")), expect: shape === "string" || shape === "keys" ? ("not-5xx" as const) : ("4xx" as const) };
    });

  const longHeader: fc.Arbitrary<HostileCase> = fc
    .tuple(fc.integer({ min: 17_000, max: 100_000 }), fc.constantFrom("X-Long", "Authorization", "Content-Type", "Cookie"))
    .map(([size, name]) => ({
      kind: "long-header",
      req: {
        method: "GET",
        path: `/jobs/${JOB_ID}`,
        headers: name === "Authorization" ? [["Authorization", `Bearer ${"t".repeat(size)}`] as const] : [["Authorization", `Bearer ${token}`] as const, [name, "v".repeat(size)] as const],
      },
      expect: "4xx" as const,
    }));

  const manyHeaders: fc.Arbitrary<HostileCase> = fc.integer({ min: 2_001, max: 5_000 }).map((n) => ({
    kind: "many-headers",
    req: { method: "GET", path: `/jobs/${JOB_ID}`, headers: [["Authorization", `Bearer ${token}`] as const, ...Array.from({ length: n }, (_, i) => [`X-H${i}`, "1"] as const)] },
    expect: "4xx" as const,
  }));

  const routes = ["/jobs", `/jobs/${JOB_ID}`, `/jobs/${JOB_ID}/transitions`, `/jobs/${JOB_ID}/cancel`, `/jobs/${JOB_ID}/retry`];
  const wrongMethod: fc.Arbitrary<HostileCase> = fc
    .tuple(fc.constantFrom(...routes), fc.constantFrom("PUT", "DELETE", "PATCH", "TRACE", "FOO", "GET", "POST", "PROPFIND"), fc.boolean())
    .filter(([route, method]) => {
      const allowed: Record<string, string[]> = { "/jobs": ["POST"], [`/jobs/${JOB_ID}`]: ["GET"], [`/jobs/${JOB_ID}/transitions`]: ["GET"], [`/jobs/${JOB_ID}/cancel`]: ["POST"], [`/jobs/${JOB_ID}/retry`]: ["POST"] };
      return !allowed[route]!.includes(method);
    })
    .map(([route, method, withBody]) => ({
      kind: "wrong-method",
      req: { method, path: route, headers: [["Authorization", `Bearer ${token}`], ["Content-Type", "application/json"]], ...(withBody ? { body: Buffer.from('{"type":"noop"}') } : {}) },
      // GET /jobs (a list route) may exist on other branches; a 2xx is acceptable there.
      expect: route === "/jobs" && method === "GET" ? ("not-5xx" as const) : ("4xx" as const),
    }));

  const wrongContentType: fc.Arbitrary<HostileCase> = fc
    .tuple(
      fc.constantFrom(
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/octet-stream",
        "application/json; charset=latin1", "application/jsonx", "json", "", ";;;", "application/json\tx", "*/*",
      ),
      validBody,
    )
    .map(([ct, body]) => ({ kind: "wrong-content-type", req: postJobs(token, Buffer.from(JSON.stringify(body)), ct), expect: "not-5xx" as const }));

  const pathTricks: fc.Arbitrary<HostileCase> = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          "..", "../healthz", "%2e%2e%2fhealthz", "%00", JOB_ID + "%00", JOB_ID.toUpperCase(), `{${JOB_ID}}`, JOB_ID + "/", JOB_ID + "/..",
          "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "%ZZ", "%", "%u0041", "a".repeat(5000),
          `${JOB_ID}?x=1`, `${JOB_ID}#frag`, `${JOB_ID};x`, "%F0%9F%98%80", "%C0%AE%C0%AE", "%ED%A0%80", "' or '1'='1", "1 union select 1",
        ),
        fc.string({ unit: "binary-ascii", maxLength: 60 }).map((s) => encodeURIComponent(s)),
        fc.uuid().map((u) => u),
      ),
      fc.constantFrom("", "/transitions", "/cancel", "/retry"),
    )
    .map(([id, suffix]) => ({
      kind: "path-trick",
      req: { method: suffix === "" || suffix === "/transitions" ? "GET" : "POST", path: `/jobs/${id}${suffix}`, headers: [["Authorization", `Bearer ${token}`]] },
      expect: "4xx" as const,
    }));

  // Request targets the router may read as GET /jobs (the absolute form names the path /jobs).
  const SPELLINGS_OF_JOBS = new Set(["//jobs", "/jobs//", "/./jobs", "http://evil/jobs"]);
  const rawPath: fc.Arbitrary<HostileCase> = fc
    .constantFrom("/jobs/\u0000", "/jobs/ x", "//jobs", "/jobs//", "/./jobs", "/jobs/%", "*", "http://evil/jobs", "/jobs/\u00ff", "/jobs/\r")
    .map((p) => ({
      kind: "raw-path",
      req: { method: "GET", path: p, headers: [["Authorization", `Bearer ${token}`]] },
      // GET /jobs is the job search: a spelling of it may answer the search's 200.
      expect: SPELLINGS_OF_JOBS.has(p) ? ("not-5xx" as const) : ("4xx" as const),
    }));

  const badAuth: fc.Arbitrary<HostileCase> = fc
    .tuple(
      fc.oneof(fc.constant(undefined), nastyString.map((s) => s.replace(/[\r\n\u0000-\u001f\u007f-\uffff]/g, "")), fc.constantFrom("Bearer", "Bearer ", `bearer${token}`, `Basic ${token}`, `Bearer ${token}x`, `Bearer  ${token.slice(1)}`)),
      fc.constantFrom(...routes),
    )
    .map(([auth, route]) => ({
      kind: "bad-auth",
      req: { method: route === "/jobs" || route.endsWith("cancel") || route.endsWith("retry") ? "POST" : "GET", path: route, headers: auth === undefined ? [] : [["Authorization", auth]], body: Buffer.from('{"type":"noop"}') },
      expect: "4xx" as const,
    }));

  const badLength: fc.Arbitrary<HostileCase> = fc
    .constantFrom("-1", "abc", "1e3", "99999999999999999999", "0x10", "1, 2")
    .map((len) => ({ kind: "bad-content-length", req: { ...postJobs(token, Buffer.from('{"type":"noop"}'), "application/json", [["Content-Length", len]]) }, expect: "4xx" as const }));

  return fc.oneof(
    { arbitrary: malformedJson, weight: 10 },
    { arbitrary: truncatedJson, weight: 8 },
    { arbitrary: wrongTypes, weight: 20 },
    { arbitrary: nonObjectBody, weight: 4 },
    { arbitrary: unicode, weight: 8 },
    { arbitrary: invalidUtf8, weight: 4 },
    { arbitrary: deepNesting, weight: 3 },
    { arbitrary: hugeBody, weight: 1 },
    { arbitrary: largeBody, weight: 1 },
    { arbitrary: longHeader, weight: 3 },
    { arbitrary: manyHeaders, weight: 1 },
    { arbitrary: wrongMethod, weight: 8 },
    { arbitrary: wrongContentType, weight: 6 },
    { arbitrary: pathTricks, weight: 12 },
    { arbitrary: rawPath, weight: 2 },
    { arbitrary: badAuth, weight: 6 },
    { arbitrary: badLength, weight: 2 },
  );
}

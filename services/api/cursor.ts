/**
 * The opaque cursor of `GET /jobs`: the keyset of the last row of a page, bound to the query's
 * filters and signed, so a client can only hand back a cursor the API issued, for the query it
 * was issued for.
 *
 *   v1.<base64url(JSON {t: created_at in µs since the epoch, i: job id, q: digest of the filters})>.<base64url(HMAC-SHA256, 16 bytes)>
 *
 * The key is derived from API_TOKEN, which every api replica shares, so a cursor works on any
 * replica; rotating the token invalidates outstanding cursors (a 400: start from the first
 * page again). Anything else wrong — bad shape, bad signature, other filters — is a 400 naming
 * `cursor`, never a 500 and never a silently different page.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { JobFilter, Keyset } from "../core/jobs/search.js";
import { UUID_PATTERN } from "../core/uuid.js";
import { ApiError } from "./http-errors.js";

const VERSION = "v1";
const MAC_BYTES = 16;
const SHAPE = /^v1\.([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{22})$/;

const Payload = z.strictObject({
  t: z.string().regex(/^-?\d{1,19}$/),
  i: z.string().regex(UUID_PATTERN),
  q: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
});

export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    // A key of its own, not the token itself: a MAC never exposes anything about the token.
    this.key = createHmac("sha256", secret).update("jobstack cursor key v1").digest();
  }

  encode(keyset: Keyset, filter: JobFilter): string {
    const body = Buffer.from(JSON.stringify({ t: keyset.createdAtMicros, i: keyset.id, q: filterDigest(filter) })).toString("base64url");
    return `${VERSION}.${body}.${this.mac(body).toString("base64url")}`;
  }

  /** The keyset a cursor carries; a 400 naming `cursor` when it is not one this API issued for `filter`. */
  decode(cursor: string, filter: JobFilter): Keyset {
    const match = SHAPE.exec(cursor);
    if (!match) throw invalid("is malformed; pass nextCursor of the previous page unchanged");
    const [, body, mac] = match as unknown as [string, string, string];
    const presented = Buffer.from(mac, "base64url");
    // The last of 22 base64 characters carries 2 bits of the MAC and 4 of padding: compare the
    // canonical spelling too, or changing a padding bit would go unnoticed.
    const canonical = presented.toString("base64url") === mac;
    if (presented.length !== MAC_BYTES || !canonical || !timingSafeEqual(presented, this.mac(body))) {
      throw invalid("was not issued by this API or was altered (or API_TOKEN was rotated since); start from the first page");
    }
    let payload: z.infer<typeof Payload>;
    try {
      payload = Payload.parse(JSON.parse(Buffer.from(body, "base64url").toString("utf8")));
    } catch {
      throw invalid("is malformed; pass nextCursor of the previous page unchanged");
    }
    if (payload.q !== filterDigest(filter)) {
      throw invalid("belongs to a query with other filters; keep state, type, createdAfter and createdBefore as they were for the first page");
    }
    return { createdAtMicros: payload.t, id: payload.i.toLowerCase() };
  }

  private mac(body: string): Buffer {
    return createHmac("sha256", this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}

/** A short digest of what selects the rows (not the page size, which may change between pages). */
function filterDigest(filter: JobFilter): string {
  const canonical = JSON.stringify([
    [...new Set(filter.states ?? [])].sort(),
    filter.type ?? null,
    filter.createdAfter === undefined ? null : new Date(filter.createdAfter).toISOString(),
    filter.createdBefore === undefined ? null : new Date(filter.createdBefore).toISOString(),
  ]);
  return createHash("sha256").update(canonical).digest().subarray(0, 12).toString("base64url");
}

function invalid(why: string): ApiError {
  return new ApiError(400, "bad_request", `invalid request query: cursor ${why}`, [{ part: "query", path: "cursor", message: why }]);
}

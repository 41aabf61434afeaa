/** The search cursor on its own: round trip, and every alteration refused with a 400 naming `cursor`. */
import { describe, expect, it } from "vitest";
import { CursorCodec } from "../../../services/api/cursor.js";
import { ApiError } from "../../../services/api/http-errors.js";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const codec = new CursorCodec("api-token-0123456789abcdef");
const keyset = { createdAtMicros: "1767225650123456", id: "01a22d9e-32d5-7003-862c-b9262787fa75" };
const filter = { states: ["FAILED" as const], type: "email" };

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("CursorCodec", () => {
  it("round-trips the keyset for the same filters, whatever their order", () => {
    const cursor = codec.encode(keyset, filter);
    expect(codec.decode(cursor, filter)).toEqual(keyset);
    expect(codec.decode(codec.encode(keyset, { states: ["FAILED", "PENDING"] }), { states: ["PENDING", "FAILED"] })).toEqual(keyset);
  });

  it("accepts exactly one spelling of the MAC: every other last character is refused", () => {
    const cursor = codec.encode(keyset, filter);
    const accepted = [...B64URL].filter((c) => {
      try {
        codec.decode(`${cursor.slice(0, -1)}${c}`, filter);
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toEqual([cursor.at(-1)]);
  });

  it("refuses another key, other filters and edited bodies, naming the cursor", () => {
    const cursor = codec.encode(keyset, filter);
    const [v, body, mac] = cursor.split(".") as [string, string, string];
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), t: "0" })).toString("base64url");
    for (const bad of [
      () => new CursorCodec("another-token-0123456789").decode(cursor, filter),
      () => codec.decode(cursor, { ...filter, type: "sleep" }),
      () => codec.decode(cursor, { type: "email" }),
      () => codec.decode(`${v}.${edited}.${mac}`, filter),
      () => codec.decode(`v2.${body}.${mac}`, filter),
      () => codec.decode("", filter),
    ]) {
      const err = refusal(bad);
      expect(err.statusCode).toBe(400);
      expect(err.details).toEqual([expect.objectContaining({ part: "query", path: "cursor" })]);
    }
  });
});

// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Time-ordered, so
// new rows land at the right edge of the primary-key index, and unguessable (74 random bits).

import { webcrypto } from "node:crypto";

let lastMs = 0;
let seq = 0;

/** A new UUIDv7. Within one millisecond a 12-bit counter in rand_a keeps ids from one process ordered. */
export function uuidv7(now: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  webcrypto.getRandomValues(bytes);
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1; // counter wrapped: borrow the next millisecond
    now = lastMs;
  } else {
    lastMs = now;
    seq = bytes[6]! & 0x07; // start low so the counter has room to grow
  }
  // 48-bit big-endian timestamp; Number holds it exactly.
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f); // version 7
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_PATTERN.test(value);
}

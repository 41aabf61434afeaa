/** The bearer check on its own: exact token, exact scheme, nothing else. */
import { describe, expect, it } from "vitest";
import { bearerMatches, roleResolver } from "../../../services/api/auth.js";

const TOKEN = "s3cret-token-0123456789";

describe("bearerMatches", () => {
  it("accepts exactly `Bearer <token>` (scheme case-insensitive)", () => {
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}`)).toBe(true);
    expect(bearerMatches(TOKEN, `bearer ${TOKEN}`)).toBe(true);
  });

  it("refuses a missing header, another scheme, a prefix, a longer token and an empty token", () => {
    expect(bearerMatches(TOKEN, undefined)).toBe(false);
    expect(bearerMatches(TOKEN, "")).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, `Basic ${TOKEN}`)).toBe(false);
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN.slice(0, -1)}`)).toBe(false);
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}x`)).toBe(false);
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN} extra`)).toBe(false);
    expect(bearerMatches("", "Bearer ")).toBe(false);
    expect(bearerMatches("", "Bearer x")).toBe(false);
  });
});

describe("roleResolver", () => {
  const OPERATOR = "operator-token-0123456789";

  it("grants submit for API_TOKEN, operator for OPERATOR_TOKEN, nothing otherwise", () => {
    const role = roleResolver({ submit: TOKEN, operator: OPERATOR });
    expect(role(`Bearer ${TOKEN}`)).toBe("submit");
    expect(role(`Bearer ${OPERATOR}`)).toBe("operator");
    expect(role(`Bearer ${OPERATOR}x`)).toBeNull();
    expect(role(undefined)).toBeNull();
    expect(role(OPERATOR)).toBeNull();
  });

  it("grants no operator role when OPERATOR_TOKEN is unset, whatever is presented", () => {
    const role = roleResolver({ submit: TOKEN });
    expect(role("Bearer ")).toBeNull();
    expect(role(`Bearer ${TOKEN}`)).toBe("submit");
    expect(roleResolver({ submit: TOKEN, operator: "" })("Bearer x")).toBeNull();
  });
});

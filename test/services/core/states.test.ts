import { describe, expect, it } from "vitest";
import { canTransition, explainTransition, FINAL_STATES, isJobState, JOB_STATES, TRANSITIONS, type JobState } from "../../../services/core/states.js";

// The state machine of README.md "The job system" (and docs/services-contract.md), spelled out pair by pair.
const ALLOWED: ReadonlyArray<[JobState, JobState]> = [
  ["PENDING", "RUNNING"],
  ["PENDING", "CANCELLED"],
  ["RUNNING", "COMPLETED"],
  ["RUNNING", "FAILED"],
  ["RUNNING", "PENDING"],
  ["FAILED", "PENDING"],
];

describe("state machine", () => {
  const pairs = JOB_STATES.flatMap((from) => JOB_STATES.map((to) => [from, to] as const));

  it.each(pairs)("%s → %s", (from, to) => {
    const allowed = ALLOWED.some(([f, t]) => f === from && t === to);
    expect(canTransition(from, to)).toBe(allowed);
    const why = explainTransition(from, to);
    if (allowed) expect(why).toBeNull();
    else expect(why).toMatch(new RegExp(`${from}.*${to}|${from} is final`));
  });

  it("lists exactly the allowed moves as data", () => {
    const flat = Object.entries(TRANSITIONS).flatMap(([f, tos]) => tos.map((t) => `${f}>${t}`));
    expect(flat.sort()).toEqual(ALLOWED.map(([f, t]) => `${f}>${t}`).sort());
  });

  it("treats COMPLETED and CANCELLED as final, FAILED as retryable by an operator", () => {
    expect([...FINAL_STATES].sort()).toEqual(["CANCELLED", "COMPLETED"]);
    for (const s of FINAL_STATES) expect(TRANSITIONS[s]).toEqual([]);
    expect(TRANSITIONS.FAILED).toEqual(["PENDING"]);
    expect(explainTransition("COMPLETED", "PENDING")).toBe("COMPLETED is final: a job cannot move from COMPLETED to PENDING");
  });

  it("recognises state names", () => {
    expect(isJobState("RUNNING")).toBe(true);
    expect(isJobState("running")).toBe(false);
    expect(isJobState(1)).toBe(false);
  });
});

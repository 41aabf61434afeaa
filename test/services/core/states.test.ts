import { describe, expect, it } from "vitest";
import { canTransition, explainTransition, sourcesOf, FINAL_STATES, isJobState, JOB_STATES, TRANSITIONS, type JobState } from "../../../services/core/states.js";

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

describe("sourcesOf and explainTransition, literally", () => {
  it("lists the states each state is reached from", () => {
    expect(sourcesOf("PENDING")).toEqual(["RUNNING", "FAILED"]);
    expect(sourcesOf("RUNNING")).toEqual(["PENDING"]);
    expect(sourcesOf("COMPLETED")).toEqual(["RUNNING"]);
    expect(sourcesOf("FAILED")).toEqual(["RUNNING"]);
    expect(sourcesOf("CANCELLED")).toEqual(["PENDING"]);
  });

  it("names the moves a non-final state allows", () => {
    expect(explainTransition("RUNNING", "CANCELLED")).toBe("RUNNING → CANCELLED is not allowed; from RUNNING a job may only move to COMPLETED or FAILED or PENDING");
    expect(explainTransition("FAILED", "COMPLETED")).toBe("FAILED → COMPLETED is not allowed; from FAILED a job may only move to PENDING");
    expect(explainTransition("PENDING", "RUNNING")).toBeNull();
  });
});

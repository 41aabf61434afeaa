/** The one label-selector matcher of the rules and the graph: Kubernetes' semantics, stated. */
import { describe, expect, it } from "vitest";
import { labelSelectorMatches, selectsEveryPod, serviceSelects } from "../../../stacks/policy/model.js";

const api = { "app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "jobstack" };

describe("labelSelectorMatches", () => {
  it("match_labels: every pair must be on the pod", () => {
    expect(labelSelectorMatches({ match_labels: { "app.kubernetes.io/name": "api" } }, api, "none")).toBe(true);
    expect(labelSelectorMatches({ match_labels: { "app.kubernetes.io/name": "api", tier: "web" } }, api, "none")).toBe(false);
  });

  it("match_expressions: In, NotIn, Exists, DoesNotExist; an unknown operator selects nothing", () => {
    const expr = (operator: string, values?: string[]) => ({ match_expressions: [{ key: "app.kubernetes.io/name", operator, ...(values ? { values } : {}) }] });
    expect(labelSelectorMatches(expr("In", ["api", "worker"]), api, "none")).toBe(true);
    expect(labelSelectorMatches(expr("In", ["worker"]), api, "none")).toBe(false);
    expect(labelSelectorMatches(expr("NotIn", ["worker"]), api, "none")).toBe(true);
    expect(labelSelectorMatches(expr("NotIn", ["api"]), api, "none")).toBe(false);
    expect(labelSelectorMatches(expr("Exists"), api, "none")).toBe(true);
    expect(labelSelectorMatches(expr("DoesNotExist"), api, "none")).toBe(false);
    expect(labelSelectorMatches(expr("Matches", ["api"]), api, "none")).toBe(false);
  });

  it("labels and expressions must both hold (cdktf may write the expressions as one object)", () => {
    const selector = { match_labels: { "app.kubernetes.io/part-of": "jobstack" }, match_expressions: { key: "app.kubernetes.io/name", operator: "In", values: ["worker"] } };
    expect(labelSelectorMatches(selector, api, "all")).toBe(false);
  });

  it("an empty selector selects every pod; an absent one means what the caller says", () => {
    expect(labelSelectorMatches({}, api, "none")).toBe(true);
    expect(labelSelectorMatches(undefined, api, "all")).toBe(true);
    expect(labelSelectorMatches(undefined, api, "none")).toBe(false);
  });
});

describe("selectsEveryPod", () => {
  it("absent or empty selects every pod; a label or an expression narrows it", () => {
    expect(selectsEveryPod(undefined)).toBe(true);
    expect(selectsEveryPod({})).toBe(true);
    expect(selectsEveryPod({ match_labels: {} })).toBe(true);
    expect(selectsEveryPod({ match_labels: { "app.kubernetes.io/name": "api" } })).toBe(false);
    expect(selectsEveryPod({ match_expressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["api"] }] })).toBe(false);
  });
});

describe("serviceSelects", () => {
  it("a Service's plain label map; absent or empty selects no pod", () => {
    expect(serviceSelects(api, api)).toBe(true);
    expect(serviceSelects({ "app.kubernetes.io/name": "worker" }, api)).toBe(false);
    expect(serviceSelects({}, api)).toBe(false);
    expect(serviceSelects(undefined, api)).toBe(false);
  });
});

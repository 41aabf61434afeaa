/** Builds violations with the rule's id and default fix. */
import type { Rule, Violation } from "./types.js";

export function violation(
  rule: Pick<Rule, "id" | "fix">,
  stack: string,
  resource: string,
  message: string,
  fix: string = rule.fix,
): Violation {
  return { stack, resource, rule: rule.id, message, fix };
}

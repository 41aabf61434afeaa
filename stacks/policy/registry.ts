/**
 * Every policy rule, and the runner that applies them to synthesized stacks.
 * Rules are in `rules/`, one per file; each file's opening comment says what it enforces (the
 * README's "Validate before you deploy" section lists them).
 */
import { dataNetwork } from "./rules/data-network.js";
import { dataPersistence } from "./rules/data-persistence.js";
import { dataPorts } from "./rules/data-ports.js";
import { healthCheck } from "./rules/health-check.js";
import { healthEndpoint } from "./rules/health-endpoint.js";
import { hostPortConflict } from "./rules/host-port-conflict.js";
import { imagePinned } from "./rules/image-pinned.js";
import { leastPrivilege } from "./rules/least-privilege.js";
import { redisEviction } from "./rules/redis-eviction.js";
import { resourceLimits } from "./rules/resource-limits.js";
import { noLiteralSecrets } from "./rules/secrets.js";
import { appSpread } from "./rules/app-spread.js";
import { quorumReplicas } from "./rules/quorum-replicas.js";
import { rabbitmqCluster } from "./rules/rabbitmq-cluster.js";
import type { Rule, SynthesizedStack, Violation } from "./types.js";

export const RULES: readonly Rule[] = [
  healthCheck,
  healthEndpoint,
  redisEviction,
  dataPorts,
  dataNetwork,
  imagePinned,
  resourceLimits,
  noLiteralSecrets,
  dataPersistence,
  leastPrivilege,
  hostPortConflict,
  quorumReplicas,
  rabbitmqCluster,
  appSpread,
];

export interface RuleResult {
  readonly rule: Rule;
  readonly violations: readonly Violation[];
}

export interface StackReport {
  readonly stack: string;
  readonly results: readonly RuleResult[];
  readonly violations: readonly Violation[];
}

/** Runs every rule on every stack, plus the cross-stack checks over the stacks given together. */
export function checkStacks(stacks: readonly SynthesizedStack[], rules: readonly Rule[] = RULES): StackReport[] {
  const across = new Map<string, Violation[]>();
  for (const rule of rules) {
    for (const v of rule.checkAcross?.(stacks) ?? []) {
      const key = `${v.stack}\u0000${rule.id}`;
      across.set(key, [...(across.get(key) ?? []), v]);
    }
  }
  return stacks.map((stack) => {
    const results = rules.map((rule) => ({ rule, violations: [...rule.check(stack), ...(across.get(`${stack.name}\u0000${rule.id}`) ?? [])] }));
    return { stack: stack.name, results, violations: results.flatMap((r) => r.violations) };
  });
}

export { formatViolation } from "./types.js";
export type { Rule, SynthesizedStack, Violation } from "./types.js";

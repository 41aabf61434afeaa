/**
 * The tier of a synthesized Kubernetes stack, read from its namespace's `jobstack.dev/tier`
 * label (stacks/kubernetes/index.ts sets it), for the rules that hold only in prod-like tiers.
 */
import { block, k8s, labelMap, resources } from "./model.js";
import type { SynthesizedStack } from "./types.js";

/** The same key as stacks/kubernetes/labels.ts; rules read JSON only, so it is not imported. */
export const TIER_LABEL = "jobstack.dev/tier";

/** `dev`, `staging`, `prod`, or undefined when the stack does not say (Docker, foreign JSON). */
export function stackTier(stack: SynthesizedStack): string | undefined {
  for (const ns of resources(stack, ...k8s("namespace"))) {
    const tier = labelMap(block(ns.body.metadata)?.labels)[TIER_LABEL];
    if (tier) return tier;
  }
  return undefined;
}

/** Staging and prod may not run what dev may (stacks/config/schema.ts `isProdLike`). */
export const isProdLikeTier = (tier: string | undefined): boolean => tier !== undefined && tier !== "dev";

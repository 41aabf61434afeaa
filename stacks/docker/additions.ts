/**
 * What a feature (features.ts) adds to the shared workload (workload.ts), and the two merges
 * that keep additions additive: a feature may only fill a setting the shared workload left
 * unset, and two features may not both set one. Either clash throws at synth time, so no
 * customisation silently wins over a base setting (or over another feature).
 */
import type { ContainerConfig } from "@cdktf/provider-docker/lib/container/index.js";
import type { ServiceTaskSpecContainerSpec, ServiceTaskSpecContainerSpecMounts } from "@cdktf/provider-docker/lib/service/index.js";

export interface WorkloadAdditions {
  /** Container arguments (bridge mode). */
  readonly container?: Partial<ContainerConfig>;
  /** Swarm container-spec fields (overlay mode). */
  readonly swarmContainer?: Partial<ServiceTaskSpecContainerSpec>;
  /** Swarm mounts after the volume and scratch mounts: a list, so additions append, never replace. */
  readonly swarmMounts?: readonly ServiceTaskSpecContainerSpecMounts[];
}

/** `base` with `addition`'s settings; throws when the addition sets anything `base` already sets. */
export function withAdditions<T extends object>(base: T, addition: Partial<T> | undefined, where: string): T {
  if (!addition) return base;
  const clashes = definedKeys(addition).filter((key) => (base as Record<string, unknown>)[key] !== undefined);
  if (clashes.length > 0) {
    throw new Error(`${where}: ${clashes.join(", ")} is set by the shared workload; a feature may add settings, not override them`);
  }
  return { ...base, ...addition };
}

/** The additions of several features as one; throws when two of them set the same setting. */
export function combineAdditions(additions: readonly WorkloadAdditions[], where: string): WorkloadAdditions {
  const container: Partial<ContainerConfig> = {};
  const swarmContainer: Partial<ServiceTaskSpecContainerSpec> = {};
  const swarmMounts: ServiceTaskSpecContainerSpecMounts[] = [];
  for (const a of additions) {
    addDisjoint(container, a.container, `${where} (container)`);
    addDisjoint(swarmContainer, a.swarmContainer, `${where} (Swarm container)`);
    swarmMounts.push(...(a.swarmMounts ?? []));
  }
  return { container, swarmContainer, swarmMounts };
}

function addDisjoint<T extends object>(into: Partial<T>, from: Partial<T> | undefined, where: string): void {
  if (!from) return;
  const clashes = definedKeys(from).filter((key) => (into as Record<string, unknown>)[key] !== undefined);
  if (clashes.length > 0) throw new Error(`${where}: ${clashes.join(", ")} is set by two features`);
  Object.assign(into, from);
}

const definedKeys = (o: object): string[] => Object.entries(o).flatMap(([key, value]) => (value === undefined ? [] : [key]));

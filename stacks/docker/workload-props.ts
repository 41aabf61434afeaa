/**
 * What a Docker workload is built from: its service spec and the system around it. A module of
 * its own so that the features (features.ts) and the workload (workload.ts) both use these types
 * without importing each other.
 */
import type { Image } from "@cdktf/provider-docker/lib/image/index.js";
import type { Volume } from "@cdktf/provider-docker/lib/volume/index.js";
import type { ITerraformDependable } from "cdktf";
import type { SecretTokens } from "../secrets.js";
import type { ServiceSpec, Topology } from "../topology.js";
import type { JobNetwork } from "./network.js";

/** Everything a workload needs from the system it belongs to. */
export interface DockerContext {
  readonly mode: "containers" | "swarm";
  /** Prefix of every Docker object name, e.g. `jobstack-dev`. */
  readonly prefix: string;
  readonly network: JobNetwork;
  readonly secrets: SecretTokens;
  readonly rollout: Topology["rollout"];
  readonly labels: Readonly<Record<string, string>>;
}

export interface WorkloadProps {
  readonly spec: ServiceSpec;
  readonly context: DockerContext;
  readonly image: Image;
  /** Named volumes by `DataVolume.name`; each of the spec's volumes must be here. */
  readonly volumes?: ReadonlyMap<string, Volume>;
  /** Resources that must exist (and, for waited-on containers, be healthy) first. */
  readonly dependsOn?: readonly ITerraformDependable[];
}

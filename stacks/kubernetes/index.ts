/** Placeholder until the Kubernetes target lands: renders nothing. */
import { Construct } from "constructs";
import type { ResolvedEnvironment } from "../config/resolve.js";
import type { Topology } from "../topology.js";

export interface KubernetesSystemProps {
  readonly env: ResolvedEnvironment;
  readonly topology: Topology;
}

export class KubernetesSystem extends Construct {
  constructor(scope: Construct, id: string, _props: KubernetesSystemProps) {
    super(scope, id);
  }
}

/** Placeholder until the Docker target lands: renders nothing. */
import { Construct } from "constructs";
import type { ResolvedEnvironment } from "../config/resolve.js";
import type { Topology } from "../topology.js";

export interface DockerSystemProps {
  readonly env: ResolvedEnvironment;
  readonly topology: Topology;
}

export class DockerSystem extends Construct {
  constructor(scope: Construct, id: string, _props: DockerSystemProps) {
    super(scope, id);
  }
}

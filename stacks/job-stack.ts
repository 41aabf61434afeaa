/**
 * One Terraform stack per environment: backend, secrets and the whole system rendered for the
 * environment's target. Constructs below this point receive typed, already-valid values and
 * never read files or environment variables.
 */
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { ResolvedEnvironment } from "./config/resolve.js";
import { configureBackend } from "./backend.js";
import { DockerSystem } from "./docker/index.js";
import { KubernetesSystem } from "./kubernetes/index.js";
import { buildTopology, type Topology } from "./topology.js";

export class JobStack extends TerraformStack {
  readonly topology: Topology;

  constructor(scope: Construct, id: string, env: ResolvedEnvironment) {
    super(scope, id);
    configureBackend(this, env.environment.backend, env.name);
    this.topology = buildTopology(env);
    if (env.environment.target === "docker") {
      new DockerSystem(this, "system", { env, topology: this.topology });
    } else {
      new KubernetesSystem(this, "system", { env, topology: this.topology });
    }
  }
}

/**
 * The Docker target: renders an environment's topology (stacks/topology.ts) for one Docker host
 * (`network.driver: bridge` → `docker_container`s) or a Swarm (`overlay` → `docker_service`s).
 *
 *   npx cdktf synth                 # writes cdktf.out/stacks/<env>/cdk.tf.json
 *   npx cdktf deploy dev            # applies it against env.docker.host
 *
 * What lives here: this system construct (provider, secrets, network, volumes, images, one
 * workload per service in the topology's dependency order, outputs); workload.ts, the one
 * workload construct every service is rendered with; features.ts, what a service's spec adds
 * to it (a task's completion check, shared memory, config files, a fixed host name), merged by
 * additions.ts so a feature never overrides a shared setting; health.ts, images.ts, network.ts.
 *
 * What it may import: stacks/topology.ts, stacks/secrets.ts, stacks/outputs.ts,
 * stacks/render-helpers.ts, the resolved config's types, and provider classes from their deep
 * paths only (`@cdktf/provider-docker/lib/…`; the package root loads every resource class of
 * the provider and makes each synth slower). Never stacks/kubernetes: the targets share
 * through the topology and the helpers, not through each other.
 *
 * Per service, everything comes from the topology: the api publishes the only port and its
 * health check is /healthz (liveness; Docker has no readiness slot, and a check that followed
 * Postgres would restart healthy api processes during a database blip); the worker's image may
 * be an operator's JVM image (`probeRuntime`); migrate runs the api's image (`sharesImageWith`)
 * once, before api and worker; Docker has no autoscaler, so the preset's `replicas` run.
 * Nothing here reads files or environment variables; the resolved environment and the topology
 * arrive typed and already valid.
 */
import { DockerProvider } from "@cdktf/provider-docker/lib/provider/index.js";
import { Volume } from "@cdktf/provider-docker/lib/volume/index.js";
import { Password } from "@cdktf/provider-random/lib/password/index.js";
import { RandomProvider } from "@cdktf/provider-random/lib/provider/index.js";
import { Fn, TerraformOutput, TerraformStack, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ResolvedEnvironment } from "../config/resolve.js";
import type { DockerTarget } from "../config/schema.js";
import { declareAccessOutputs } from "../outputs.js";
import { dependenciesOf, developmentSecrets, labelList } from "../render-helpers.js";
import { declareSecrets, type SecretTokens } from "../secrets.js";
import type { ServiceName, Topology } from "../topology.js";
import { Images } from "./images.js";
import { JobNetwork } from "./network.js";
import { DockerWorkload, type DockerContext } from "./workload.js";

export { DATA_NODE_LABEL } from "./workload.js";

export interface DockerSystemProps {
  readonly env: ResolvedEnvironment;
  readonly topology: Topology;
  /**
   * The repository root as seen from Terraform's working directory (`cdktf.out/stacks/<env>`),
   * for images built from services/Dockerfile. @default "../../.."
   */
  readonly buildRoot?: string;
}

export class DockerSystem extends Construct {
  readonly mode: "containers" | "swarm";
  readonly network: JobNetwork;
  /** The network's name, e.g. `jobstack-dev` (also the `network_name` output). */
  readonly networkName: string;
  /** Where the API answers, e.g. `http://localhost:8080` (also the `api_url` output). */
  readonly apiUrl: string;
  readonly images: Images;
  readonly volumes: ReadonlyMap<string, Volume>;
  readonly workloads: ReadonlyMap<ServiceName, DockerWorkload>;
  readonly secrets: SecretTokens;

  constructor(scope: Construct, id: string, props: DockerSystemProps) {
    super(scope, id);
    const { env, topology } = props;
    const docker = requireDocker(env);
    this.mode = docker.network.driver === "overlay" ? "swarm" : "containers";
    if (this.mode === "swarm" && !docker.swarmManager) {
      // The config schema refuses this already; a construct used on its own must not render it.
      throw new Error(`${env.name}: docker.network.driver (overlay) needs docker.swarmManager: true`);
    }
    const stack = TerraformStack.of(this);
    const labels = { "com.jobstack.environment": env.name, "com.jobstack.managed-by": "cdktf" };

    new DockerProvider(this, "docker", {
      host: docker.host,
      // pathexpand runs in Terraform, so `~/.docker/staging` works without reading $HOME here.
      ...(docker.certPath ? { certPath: Fn.pathexpand(docker.certPath) } : {}),
    });

    // Variables live at the stack root so their names stay `postgres_password` etc. (TF_VAR_…).
    this.secrets = env.environment.secrets.generateDevelopmentSecrets
      ? declareSecrets(stack, developmentSecrets(new Construct(this, "generated-secrets"), { RandomProvider, Password }))
      : declareSecrets(stack);

    this.network = new JobNetwork(this, "network", {
      name: topology.network,
      driver: docker.network.driver,
      encrypted: docker.network.encrypted,
      ...(docker.network.subnet ? { subnet: docker.network.subnet } : {}),
      labels,
    });
    this.networkName = this.network.name;
    this.images = new Images(this, "images", { ...(props.buildRoot ? { buildRoot: props.buildRoot } : {}), labels });

    const volumes = new Map<string, Volume>();
    const volumeScope = new Construct(this, "volumes");
    for (const spec of topology.services) {
      for (const v of spec.volumes) {
        if (volumes.has(v.name)) throw new Error(`${env.name}: volume '${v.name}' is declared by two services`);
        volumes.set(
          v.name,
          new Volume(volumeScope, v.name, {
            name: `${topology.network}-${v.name}`,
            labels: labelList({ ...labels, "com.jobstack.service": spec.name }),
            // Data outlives containers and services; `terraform destroy` stops here on purpose.
            lifecycle: { preventDestroy: true },
          }),
        );
      }
    }
    this.volumes = volumes;

    const context: DockerContext = {
      mode: this.mode,
      prefix: topology.network,
      network: this.network,
      secrets: this.secrets,
      rollout: topology.rollout,
      labels,
    };
    const workloads = new Map<ServiceName, DockerWorkload>();
    for (const spec of topology.services) {
      const dependsOn: ITerraformDependable[] = dependenciesOf(spec, workloads).flatMap((w) => w.dependables);
      workloads.set(
        spec.name,
        new DockerWorkload(this, spec.name, {
          spec,
          context,
          // Named after the service whose image it runs (migrate runs the api's); a worker with
          // the api's tag shares the one build (images.ts).
          image: this.images.forService(spec, spec.sharesImageWith ?? spec.name),
          volumes,
          dependsOn,
        }),
      );
    }
    this.workloads = workloads;

    const api = workloads.get("api");
    const port = api?.publishedPorts[0];
    this.apiUrl = port === undefined ? "" : `http://${hostOf(docker.host)}:${port}`;

    declareAccessOutputs(stack, {
      apiUrl: this.apiUrl,
      secrets: this.secrets,
      generated: env.environment.secrets.generateDevelopmentSecrets,
    });
    new TerraformOutput(stack, "network_name", { value: this.network.resource.name, description: "The environment's dedicated Docker network." });
  }
}

function requireDocker(env: ResolvedEnvironment): DockerTarget {
  const docker = env.environment.docker;
  if (env.environment.target !== "docker" || !docker) {
    throw new Error(`${env.name}: DockerSystem renders target 'docker' environments with a docker block (target is '${env.environment.target}')`);
  }
  return docker;
}

/**
 * The host a browser reaches the published port on: localhost for a local socket, the daemon's
 * host name for `tcp://` and `ssh://` hosts.
 */
export function hostOf(dockerHost: string): string {
  const m = /^(?:tcp|ssh|http|https):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(dockerHost);
  return m?.[1] ?? "localhost";
}

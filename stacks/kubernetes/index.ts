/**
 * The Kubernetes target: renders the topology (stacks/topology.ts) into one namespace with
 * @cdktf/provider-kubernetes `*_v1` resources, imported from deep paths only (the package root
 * costs about 2 s and 200 MB per synth).
 *
 *   namespace (Pod Security "restricted")
 *   ├─ Secret jobstack-secrets            every SecretValue key, from TF_VAR_* (or random, dev tier)
 *   ├─ postgres | redis | rabbitmq        StatefulSet + PVC template + headless Service (+ ConfigMap);
 *   │                                     not rendered when declared external (external.*)
 *   ├─ rabbitmq with replicas > 1         a cluster instead (rabbitmq-cluster.ts)
 *   ├─ migrate                            Job, waited for; depends on postgres
 *   ├─ api                                Deployment + PDB + Service (+ Ingress); depends on migrate
 *   ├─ worker                             Deployment + PDB (+ HPA); depends on migrate
 *   └─ NetworkPolicies                    default deny, then exactly the topology's edges + DNS
 *
 * Creation follows the topology's dependency order (`Topology.services`, sorted and checked once
 * by stacks/topology.ts; a StatefulSet or Deployment resource waits for its rollout, the Job for
 * its completion), so `cdktf deploy prod` brings the data services up, migrates, then starts the
 * api and workers.
 *
 *   npx cdktf synth prod && npx cdktf deploy prod
 *
 * What lives here: this system construct, and one construct per kind of object above, each
 * composing the shared pod spec of pod.ts (app-workload.ts, data-service.ts, migration-job.ts,
 * rabbitmq-cluster.ts) plus the namespace-wide pieces (secrets.ts, network-policies.ts,
 * api-exposure.ts, labels.ts, quantities.ts, postgres-settings.ts).
 *
 * What it may import: stacks/topology.ts, stacks/secrets.ts, stacks/outputs.ts,
 * stacks/render-helpers.ts, the resolved config's types, and provider classes from their deep
 * paths only. Never stacks/docker: the targets share through the topology and the helpers.
 */
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider/index.js";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1/index.js";
import { TerraformOutput, TerraformStack, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ResolvedEnvironment } from "../config/resolve.js";
import type { KubernetesTarget } from "../config/schema.js";
import type { ServiceName, Topology } from "../topology.js";
import { declareAccessOutputs } from "../outputs.js";
import { dependenciesOf } from "../render-helpers.js";
import { API_SERVICE_PORT, ApiExposure } from "./api-exposure.js";
import { AppWorkload } from "./app-workload.js";
import { DataService } from "./data-service.js";
import { systemLabels, TIER_LABEL } from "./labels.js";
import { MigrationJob } from "./migration-job.js";
import { NetworkPolicies } from "./network-policies.js";
import { RabbitmqCluster } from "./rabbitmq-cluster.js";
import { SystemSecret } from "./secrets.js";

export interface KubernetesSystemProps {
  readonly env: ResolvedEnvironment;
  readonly topology: Topology;
}

/**
 * Where a client reaches the api: the Ingress host (https when the Ingress has a TLS Secret),
 * else a port-forward to the api Service on this machine.
 */
export function apiUrlOf(target: KubernetesTarget): { url: string; portForward: boolean } {
  const ingress = target.ingress;
  if (ingress) return { url: `${ingress.tlsSecretName ? "https" : "http"}://${ingress.host}`, portForward: false };
  return { url: "http://localhost:8080", portForward: true };
}

export class KubernetesSystem extends Construct {
  readonly namespace: NamespaceV1;
  readonly secret: SystemSecret;
  readonly dataServices: ReadonlyMap<ServiceName, DataService | RabbitmqCluster>;
  readonly workloads: ReadonlyMap<ServiceName, AppWorkload>;
  readonly migration?: MigrationJob;
  readonly api?: ApiExposure;
  readonly networkPolicies: NetworkPolicies;
  readonly target: KubernetesTarget;

  constructor(scope: Construct, id: string, props: KubernetesSystemProps) {
    super(scope, id);
    const { env, topology } = props;
    const target = env.environment.kubernetes;
    if (env.environment.target !== "kubernetes" || !target) {
      throw new Error(`environment ${env.name}: KubernetesSystem needs target "kubernetes" and a "kubernetes" section`);
    }
    this.target = target;

    new KubernetesProvider(this, "kubernetes", {
      configPath: target.kubeconfig.path,
      ...(target.kubeconfig.context ? { configContext: target.kubeconfig.context } : {}),
    });

    this.namespace = new NamespaceV1(this, "namespace", {
      metadata: {
        name: target.namespace,
        labels: {
          ...systemLabels(topology.environment),
          // Every pod here meets the "restricted" Pod Security Standard; the API server enforces it.
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
          // Read by the policy rules that differ for prod-like tiers (stacks/policy/rules/rabbitmq-quorum.ts).
          [TIER_LABEL]: env.environment.tier,
        },
      },
    });
    const namespace = this.namespace.metadata.name;

    this.secret = new SystemSecret(this, "secrets", {
      namespace,
      topology,
      generate: env.environment.secrets.generateDevelopmentSecrets,
    });
    const secretName = this.secret.secretName;

    const created = new Map<ServiceName, ITerraformDependable>();
    const dataServices = new Map<ServiceName, DataService | RabbitmqCluster>();
    const workloads = new Map<ServiceName, AppWorkload>();
    for (const spec of topology.services) {
      const dependsOn = dependenciesOf(spec, created);
      const common = { namespace, environment: topology.environment, spec, secretName, ...(dependsOn.length > 0 ? { dependsOn } : {}) };
      switch (spec.kind) {
        case "data": {
          const data =
            spec.name === "rabbitmq" && spec.replicas > 1
              ? new RabbitmqCluster(this, "rabbitmq-cluster", { ...common, namespaceName: target.namespace, storageClass: target.storageClass })
              : new DataService(this, spec.name, { ...common, storageClass: target.storageClass });
          dataServices.set(spec.name, data);
          created.set(spec.name, data.statefulSet);
          break;
        }
        case "task": {
          if (this.migration) throw new Error(`only one task is supported; ${spec.name} is a second`);
          this.migration = new MigrationJob(this, spec.name, common);
          created.set(spec.name, this.migration.job);
          break;
        }
        case "app": {
          const app = new AppWorkload(this, spec.name, { ...common, rollout: topology.rollout });
          workloads.set(spec.name, app);
          created.set(spec.name, app.deployment);
          if (topology.edges.some((e) => e.from === "ingress" && e.to === spec.name)) {
            if (this.api) throw new Error(`only one service may take outside traffic; ${spec.name} is a second`);
            this.api = new ApiExposure(this, `${spec.name}-exposure`, { namespace, environment: topology.environment, spec, target });
          }
          break;
        }
      }
    }
    this.dataServices = dataServices;
    this.workloads = workloads;
    const controllerNamespace = target.ingress?.controllerNamespace;
    this.networkPolicies = new NetworkPolicies(this, "network-policies", {
      namespace,
      topology,
      ...(controllerNamespace ? { ingressControllerNamespace: controllerNamespace } : {}),
      ...(dataServices.get("rabbitmq") instanceof RabbitmqCluster ? { apiServerClients: ["rabbitmq"] } : {}),
    });

    // Stack-level outputs keep plain names, the same as the Docker target's where they mean the
    // same thing: `cdktf output prod` shows `api_url`, `namespace`, `api_service_name`, … (stacks/outputs.ts).
    const stack = TerraformStack.of(this);
    new TerraformOutput(stack, "namespace", { value: namespace, description: "Namespace the system runs in" });
    if (this.api) {
      new TerraformOutput(stack, "api_service_name", {
        value: this.api.service.metadata.name,
        description: "Service in front of the api (port 80); kubectl -n <namespace> port-forward svc/<name> 8080:80",
      });
    }
    const exposure = apiUrlOf(target);
    declareAccessOutputs(stack, {
      apiUrl: exposure.url,
      secrets: this.secret.tokens,
      generated: env.environment.secrets.generateDevelopmentSecrets,
      ...(exposure.portForward ? { extraNotes: [`Reach the api with: kubectl -n ${target.namespace} port-forward svc/api 8080:${API_SERVICE_PORT}`] } : {}),
    });
  }
}

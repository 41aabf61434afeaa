/**
 * One of our processes (api, worker): a Deployment with rolling-update settings from the
 * preset, a PodDisruptionBudget, preferred anti-affinity across nodes, and — when the preset
 * enables it — a HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation).
 *
 * With an HPA the Deployment starts at `minReplicas` and Terraform ignores later changes to
 * `spec[0].replicas`, so an apply never undoes a scale-out.
 *
 * Pods spread evenly over zones and nodes (topologySpreadConstraints, as a preference; see
 * pod.ts `spreadConstraints` for why not a hard rule), so losing one node or one zone takes only
 * its share of replicas (docs/high-availability.md).
 *
 * The PDB allows max(1, rollout.maxUnavailable) voluntary evictions at a time: the same
 * availability budget as a rollout, but never 0, which would block every node drain.
 */
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1/index.js";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2/index.js";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1/index.js";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ServiceSpec, Topology } from "../topology.js";
import { objectLabels, selectorLabels } from "./labels.js";
import { podSpec } from "./pod.js";

export interface AppWorkloadProps {
  readonly namespace: string;
  readonly environment: string;
  readonly spec: ServiceSpec;
  readonly rollout: Topology["rollout"];
  readonly secretName: string;
  /** Created (and, for the migration Job, completed) before this Deployment. @default none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /** @default 5 */
  readonly revisionHistoryLimit?: number;
}

export class AppWorkload extends Construct {
  readonly deployment: DeploymentV1;
  readonly disruptionBudget: PodDisruptionBudgetV1;
  readonly autoscaler?: HorizontalPodAutoscalerV2;
  readonly revisionHistoryLimit: number;

  constructor(scope: Construct, id: string, props: AppWorkloadProps) {
    super(scope, id);
    const { spec, namespace, rollout } = props;
    if (spec.kind !== "app") throw new Error(`AppWorkload renders app services; ${spec.name} is ${spec.kind}`);
    if (rollout.maxSurge === 0 && rollout.maxUnavailable === 0) {
      throw new Error(`'rollout.maxSurge' (0) and 'rollout.maxUnavailable' (0) cannot both be 0: a rollout could never progress`);
    }
    const autoscaling = spec.autoscaling;
    if (autoscaling && autoscaling.minReplicas > autoscaling.maxReplicas) {
      throw new Error(
        `${spec.name}: 'autoscaling.minReplicas' (${autoscaling.minReplicas}) must not exceed 'autoscaling.maxReplicas' (${autoscaling.maxReplicas})`,
      );
    }
    this.revisionHistoryLimit = props.revisionHistoryLimit ?? 5;
    const labels = objectLabels(spec, props.environment);
    const selector = selectorLabels(spec.name);

    this.deployment = new DeploymentV1(this, "deployment", {
      metadata: { name: spec.name, namespace, labels },
      spec: {
        replicas: String(autoscaling ? autoscaling.minReplicas : spec.replicas),
        revisionHistoryLimit: this.revisionHistoryLimit,
        selector: { matchLabels: selector },
        strategy: {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: String(rollout.maxSurge), maxUnavailable: String(rollout.maxUnavailable) },
        },
        template: {
          metadata: { labels },
          spec: podSpec(spec, { secretName: props.secretName, spreadAcrossNodes: true, spreadOverZones: true }),
        },
      },
      ...(autoscaling ? { lifecycle: { ignoreChanges: ["spec[0].replicas"] } } : {}),
      ...(props.dependsOn ? { dependsOn: [...props.dependsOn] } : {}),
    });

    this.disruptionBudget = new PodDisruptionBudgetV1(this, "disruption-budget", {
      metadata: { name: spec.name, namespace, labels },
      spec: { maxUnavailable: String(Math.max(1, rollout.maxUnavailable)), selector: { matchLabels: selector } },
    });

    if (autoscaling) {
      this.autoscaler = new HorizontalPodAutoscalerV2(this, "autoscaler", {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          minReplicas: autoscaling.minReplicas,
          maxReplicas: autoscaling.maxReplicas,
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
          metric: [
            {
              type: "Resource",
              resource: { name: "cpu", target: { type: "Utilization", averageUtilization: autoscaling.targetCpuPercent } },
            },
          ],
        },
      });
    }
  }
}

/**
 * The `migrate` task as a Job that Terraform waits for (`wait_for_completion`); the api and
 * worker Deployments depend on it, so a new image is migrated before any pod runs it.
 *
 * No `ttl_seconds_after_finished`: the provider drops a TTL-deleted Job from state and plans
 * to create it again on every later run (hashicorp/terraform-provider-kubernetes#2531; the fix
 * for TTL 0 was reverted in #2650). Kept, the finished Job is the record of the last migration
 * and holds its logs; a change to its template (a new image) replaces it and runs it again.
 * A hung migration is bounded by `activeDeadlineSeconds`; a task gets no probes.
 */
import { JobV1 } from "@cdktf/provider-kubernetes/lib/job-v1/index.js";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { ServiceSpec } from "../topology.js";
import { objectLabels } from "./labels.js";
import { podSpec } from "./pod.js";

export interface MigrationJobProps {
  readonly namespace: string;
  readonly environment: string;
  readonly spec: ServiceSpec;
  readonly secretName: string;
  readonly dependsOn?: readonly ITerraformDependable[];
  /** Pod retries before the Job fails. @default 3 */
  readonly backoffLimit?: number;
  /** Wall-clock limit of the whole Job. @default 600 */
  readonly activeDeadlineSeconds?: number;
}

export class MigrationJob extends Construct {
  readonly job: JobV1;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds: number;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    const { spec, namespace } = props;
    if (spec.kind !== "task") throw new Error(`MigrationJob renders tasks; ${spec.name} is ${spec.kind}`);
    this.backoffLimit = props.backoffLimit ?? 3;
    this.activeDeadlineSeconds = props.activeDeadlineSeconds ?? 600;
    const labels = objectLabels(spec, props.environment);
    this.job = new JobV1(this, "job", {
      metadata: { name: spec.name, namespace, labels },
      spec: {
        backoffLimit: this.backoffLimit,
        activeDeadlineSeconds: this.activeDeadlineSeconds,
        completions: 1,
        parallelism: 1,
        template: {
          metadata: { labels },
          spec: podSpec(spec, { secretName: props.secretName, restartPolicy: "Never", probes: false }),
        },
      },
      waitForCompletion: true,
      timeouts: { create: `${this.activeDeadlineSeconds + 60}s`, update: `${this.activeDeadlineSeconds + 60}s` },
      ...(props.dependsOn ? { dependsOn: [...props.dependsOn] } : {}),
    });
  }
}

/**
 * The worker pool: our image with command `worker` (Node, with NODE_OPTIONS from the preset),
 * or an operator's JVM image with JAVA_TOOL_OPTIONS. Health check on /healthz of the health
 * port, which is not published; for a JVM image it runs with wget or curl (see health.ts).
 * Docker has no autoscaler: the preset's `replicas` run, `autoscaling` applies on Kubernetes only.
 */
import type { Construct } from "constructs";
import type { ProbeRuntime } from "./health.js";
import { DockerWorkload, type WorkloadProps } from "./workload.js";

export interface WorkerServiceProps extends WorkloadProps {
  /** The runtime inside the worker image. @default "node" */
  readonly runtime?: ProbeRuntime;
}

export class WorkerService extends DockerWorkload {
  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id, props);
  }

  protected override probeRuntime(props: WorkerServiceProps): ProbeRuntime {
    return props.runtime ?? "node";
  }
}

/**
 * The worker pool: our image with command `worker` (Node, with NODE_OPTIONS from the preset),
 * or an operator's JVM image with JAVA_TOOL_OPTIONS. Health check on /healthz of the health
 * port, which is not published. Docker has no autoscaler: the preset's `replicas` run, and
 * `autoscaling` applies on Kubernetes only.
 */
import type { ProbeRuntime } from "./health.js";
import { DockerWorkload, type WorkloadProps } from "./workload.js";

export interface WorkerServiceProps extends WorkloadProps {
  /** The runtime inside the worker image; decides how the HTTP health check runs. @default "node" */
  readonly runtime?: ProbeRuntime;
}

export class WorkerService extends DockerWorkload {
  constructor(scope: ConstructorParameters<typeof DockerWorkload>[0], id: string, props: WorkerServiceProps) {
    // probeRuntime() is called from the base constructor, so the runtime travels in the spec's
    // props rather than in a field of this class.
    super(scope, id, props);
  }

  protected override probeRuntime(): ProbeRuntime {
    return runtimeOf(this.node.scope, this.node.id) ?? "node";
  }
}

// Set by the system before construction (see index.ts); keeps the base constructor's hook pure.
const runtimes = new WeakMap<object, Map<string, ProbeRuntime>>();
function runtimeOf(scope: unknown, id: string): ProbeRuntime | undefined {
  return runtimes.get(scope as object)?.get(id);
}

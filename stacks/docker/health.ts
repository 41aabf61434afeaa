/**
 * Turns the topology's probes into Docker health checks. Docker runs a check inside the
 * container, so an HTTP probe becomes a command that the image can execute:
 *
 * - Node images (ours): `node -e "fetch(…)"`. Node 20 has a global fetch and the image needs no
 *   curl or wget; the exit code is 0 only for a 2xx answer.
 * - JVM worker images (brought by the operator): `CMD-SHELL` with wget, falling back to curl.
 *   Such an image must ship one of the two (Alpine/BusyBox and most distro-based JDK images do);
 *   this is documented in the README, since we cannot inspect a foreign image at synth time.
 *
 * The service spec's `probeRuntime` (stacks/topology.ts) says which of the two an image is.
 * Exec probes run as given (`CMD`, no shell unless the command itself starts one).
 */
import type { HealthCheck, Probe, ProbeRuntime } from "../topology.js";

/** A Go duration, as the Docker API and the provider expect it (`"10s"`). */
export const seconds = (n: number): string => `${n}s`;

export function healthTest(probe: Probe, runtime: ProbeRuntime): string[] {
  if (probe.kind === "exec") return ["CMD", ...probe.command];
  const url = `http://127.0.0.1:${probe.port}${probe.path}`;
  if (runtime === "node") {
    return ["CMD", "node", "-e", `fetch('${url}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
  }
  return ["CMD-SHELL", `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url} || exit 1`];
}

/** The health check block shared by `docker_container` and a Swarm task spec. */
export function dockerHealthcheck(health: HealthCheck, runtime: ProbeRuntime) {
  return {
    test: healthTest(health.liveness, runtime),
    interval: seconds(health.intervalSeconds),
    timeout: seconds(health.timeoutSeconds),
    retries: health.retries,
    startPeriod: seconds(health.startPeriodSeconds),
  };
}

/**
 * The longest a healthy start can take: the start period plus every retry timing out.
 * Used for `wait_timeout` (containers) and `converge_config.timeout` (Swarm), with 30 s to spare
 * for image start-up.
 */
export function healthyWithinSeconds(health: HealthCheck): number {
  return health.startPeriodSeconds + (health.intervalSeconds + health.timeoutSeconds) * (health.retries + 1) + 30;
}

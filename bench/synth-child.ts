/**
 * One measured synth, run in a fresh process by bench/synth.ts (never imported):
 *
 *   node --import tsx bench/synth-child.ts <variant>     (CDKTF_OUTDIR=<temp dir>)
 *
 * Variants:
 *   app        the real app, `stacks/main.ts`: every environment, deep provider imports only
 *   app+root   the same, after importing the Kubernetes and Docker providers from their package
 *              roots (what a naive `import { DeploymentV1 } from "@cdktf/provider-kubernetes"` costs)
 *   deep       only the deep provider modules the stacks import (no synth)
 *   root       only the two package roots (no synth)
 *
 * At exit it prints one line `BENCH_RESULT {"cpuMs","maxRssBytes","inProcessMs"}` to stdout.
 */

const variant = process.argv[2];
const t0 = performance.now();

// The deep modules stacks/docker and stacks/kubernetes import (grep "@cdktf/provider-" stacks/).
const DEEP = [
  "@cdktf/provider-docker/lib/provider/index.js",
  "@cdktf/provider-docker/lib/volume/index.js",
  "@cdktf/provider-docker/lib/container/index.js",
  "@cdktf/provider-docker/lib/service/index.js",
  "@cdktf/provider-docker/lib/config/index.js",
  "@cdktf/provider-docker/lib/image/index.js",
  "@cdktf/provider-docker/lib/network/index.js",
  "@cdktf/provider-kubernetes/lib/provider/index.js",
  "@cdktf/provider-kubernetes/lib/namespace-v1/index.js",
  "@cdktf/provider-kubernetes/lib/ingress-v1/index.js",
  "@cdktf/provider-kubernetes/lib/service-v1/index.js",
  "@cdktf/provider-kubernetes/lib/secret-v1/index.js",
  "@cdktf/provider-kubernetes/lib/network-policy-v1/index.js",
  "@cdktf/provider-kubernetes/lib/deployment-v1/index.js",
  "@cdktf/provider-kubernetes/lib/job-v1/index.js",
  "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2/index.js",
  "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1/index.js",
  "@cdktf/provider-kubernetes/lib/config-map-v1/index.js",
  "@cdktf/provider-kubernetes/lib/stateful-set-v1/index.js",
];
const ROOTS = ["@cdktf/provider-kubernetes", "@cdktf/provider-docker"];

process.on("exit", (code) => {
  if (code !== 0) return;
  const usage = process.resourceUsage();
  const line = {
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    maxRssBytes: usage.maxRSS * 1024,
    inProcessMs: performance.now() - t0,
  };
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(line)}\n`);
});

switch (variant) {
  case "app":
    await import("../stacks/main.js");
    break;
  case "app+root":
    for (const spec of ROOTS) await import(spec);
    await import("../stacks/main.js");
    break;
  case "deep":
    for (const spec of DEEP) await import(spec);
    break;
  case "root":
    for (const spec of ROOTS) await import(spec);
    break;
  default:
    console.error(`unknown variant ${String(variant)} (app, app+root, deep, root)`);
    process.exit(2);
}

/**
 * How clients reach the api: a Service (type from the environment file, ClusterIP by default)
 * on port 80, and an Ingress for `kubernetes.ingress.host` when the environment sets one.
 *
 * The Ingress routes only what clients need (PUBLIC_API_PATHS). `/metrics`, `/healthz` and
 * `/readyz` answer without a token for probes and scrapers inside the cluster; routing `/` would
 * have published them (and the process's internals they show) to anyone.
 */
import { IngressV1 } from "@cdktf/provider-kubernetes/lib/ingress-v1/index.js";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1/index.js";
import { Construct } from "constructs";
import type { KubernetesTarget } from "../config/schema.js";
import type { ServiceSpec } from "../topology.js";
import { objectLabels, selectorLabels } from "./labels.js";

export const API_SERVICE_PORT = 80;

/**
 * The api paths the Ingress exposes, with Kubernetes path matching: `Prefix` matches whole path
 * elements (`/jobs` matches `/jobs` and `/jobs/…`, not `/jobsx`), `Exact` only itself.
 * `/openapi.json` and `/ui` (the operator dashboard, HTML plus its assets) are routed ahead of
 * the api serving them; until it does they answer the api's 404.
 */
export const PUBLIC_API_PATHS: ReadonlyArray<{ readonly path: string; readonly pathType: "Prefix" | "Exact" }> = [
  { path: "/jobs", pathType: "Prefix" },
  { path: "/openapi.json", pathType: "Exact" },
  { path: "/ui", pathType: "Prefix" },
];

export interface ApiExposureProps {
  readonly namespace: string;
  readonly environment: string;
  readonly spec: ServiceSpec;
  readonly target: KubernetesTarget;
}

export class ApiExposure extends Construct {
  readonly service: ServiceV1;
  readonly ingress?: IngressV1;

  constructor(scope: Construct, id: string, props: ApiExposureProps) {
    super(scope, id);
    const { spec, namespace, target } = props;
    const http = spec.ports[0];
    if (!http) throw new Error(`${spec.name} has no port to expose`);
    const labels = objectLabels(spec, props.environment);
    this.service = new ServiceV1(this, "service", {
      metadata: { name: spec.name, namespace, labels },
      spec: {
        type: target.apiService.type,
        selector: selectorLabels(spec.name),
        port: [{ name: http.name, port: API_SERVICE_PORT, targetPort: http.name, protocol: "TCP" }],
      },
    });
    const ingress = target.ingress;
    if (ingress) {
      this.ingress = new IngressV1(this, "ingress", {
        metadata: { name: spec.name, namespace, labels },
        spec: {
          ingressClassName: ingress.className,
          rule: [
            {
              host: ingress.host,
              http: {
                path: PUBLIC_API_PATHS.map(({ path, pathType }) => ({
                  path,
                  pathType,
                  backend: { service: { name: this.service.metadata.name, port: { number: API_SERVICE_PORT } } },
                })),
              },
            },
          ],
          ...(ingress.tlsSecretName ? { tls: [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }] } : {}),
        },
      });
    }
  }
}

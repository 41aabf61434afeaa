import { describe, expect, it } from "vitest";
import { API_SERVICE_PORT, ApiExposure } from "../../../stacks/kubernetes/api-exposure.js";
import type { KubernetesTarget } from "../../../stacks/config/index.js";
import { service } from "../../../stacks/topology.js";
import { prod, resources, synthConstructs, synthEnvironment, type Json } from "./support.js";

const { env, topology } = prod();
const base = env.environment.kubernetes!;
const render = (target: KubernetesTarget) =>
  synthConstructs((s) => new ApiExposure(s, "api-exposure", { namespace: "ns", environment: "prod", spec: service(topology, "api"), target }));

describe("ApiExposure", () => {
  it("puts the api behind a Service of the environment's type on port 80", () => {
    const json = render({ ...base, apiService: { type: "LoadBalancer" } });
    const [svc] = resources(json, "kubernetes_service_v1");
    expect(svc!.body.metadata.name).toBe("api");
    expect(svc!.body.spec.type).toBe("LoadBalancer");
    expect(svc!.body.spec.port).toEqual([{ name: "http", port: API_SERVICE_PORT, target_port: "http", protocol: "TCP" }]);
  });

  it("adds an Ingress with TLS for the environment's host", () => {
    const json = render(base);
    const [ing] = resources(json, "kubernetes_ingress_v1");
    expect(ing!.body.spec.ingress_class_name).toBe("nginx");
    expect(ing!.body.spec.rule[0].host).toBe("jobs.example.com");
    expect(ing!.body.spec.rule[0].http.path[0].backend.service.port.number).toBe(API_SERVICE_PORT);
    expect(ing!.body.spec.tls).toEqual([{ hosts: ["jobs.example.com"], secret_name: "jobs-example-com-tls" }]);
  });

  it("renders no Ingress when the environment has none, and no TLS without a secret", () => {
    const { ingress: _i, ...noIngress } = base;
    expect(resources(render(noIngress), "kubernetes_ingress_v1")).toHaveLength(0);
    const plain = render({ ...base, ingress: { host: "h.example", className: "traefik" } });
    expect(resources(plain, "kubernetes_ingress_v1")[0]!.body.spec.tls).toBeUndefined();
  });
});

/** Kubernetes Ingress path matching: Exact is equality; Prefix matches whole path elements. */
function routes(paths: Json[], requestPath: string): boolean {
  const elements = (p: string) => p.split("/").filter(Boolean);
  return paths.some(({ path, path_type }: { path: string; path_type: string }) => {
    if (path_type === "Exact") return requestPath === path;
    if (path_type !== "Prefix") throw new Error(`unexpected pathType ${path_type}`);
    const want = elements(path);
    const got = elements(requestPath);
    return want.length <= got.length && want.every((e, i) => e === got[i]);
  });
}

describe("the synthesized prod Ingress", () => {
  const [ing, ...more] = resources(synthEnvironment(env), "kubernetes_ingress_v1");
  const paths = ing!.body.spec.rule.flatMap((r: Json) => r.http.path) as Json[];

  it("is the only Ingress, and sends every path it routes to the api Service", () => {
    expect(more).toHaveLength(0);
    expect(paths.map((p) => `${p.path_type} ${p.path}`)).toEqual(["Prefix /jobs", "Exact /openapi.json", "Prefix /ui"]);
    for (const p of paths) expect(p.backend.service.port.number).toBe(API_SERVICE_PORT);
  });

  it("lets no request for /metrics, /healthz, /readyz or / through", () => {
    for (const internal of ["/", "/metrics", "/metrics/", "/healthz", "/readyz", "/readyz/x", "/jobsx", "/uix", "/openapi.json/x"]) {
      expect(routes(paths, internal), internal).toBe(false);
    }
  });

  it("routes what clients need: the job routes, the OpenAPI document and the dashboard", () => {
    for (const client of ["/jobs", "/jobs/", "/jobs/0190a7d2-7a2b-7c3d-8e4f-5a6b7c8d9e0f", "/jobs/0190a7d2-7a2b-7c3d-8e4f-5a6b7c8d9e0f/transitions", "/jobs/stats", "/jobs/batch", "/openapi.json", "/ui", "/ui/app.js"]) {
      expect(routes(paths, client), client).toBe(true);
    }
  });
});

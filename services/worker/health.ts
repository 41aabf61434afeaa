// A tiny HTTP server for the worker's probes (docs/health-probes.md):
// GET /healthz  liveness; touches no dependency (a liveness probe must not fail because Postgres
//               is slow): 200 while the process runs, 503 once Postgres or RabbitMQ has been
//               unreachable longer than DEPENDENCY_LIVENESS_LIMIT_MS (from the dependency watch);
// GET /readyz   readiness; asks the dependencies now: 503 at once while Postgres, the schema or
//               RabbitMQ (publisher and consumer) is unavailable;
// GET /metrics  Prometheus text.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { LivenessReport } from "../core/dependency-watch.js";
import type { ReadinessReport } from "../core/readiness.js";

export interface HealthServer {
  readonly port: number;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  port: number;
  host?: string;
  registry?: Registry;
  status?: () => Record<string, unknown>;
  /** From the dependency watch; absent = always live. */
  liveness?: () => LivenessReport;
  /** Absent = /readyz mirrors /healthz. */
  readiness?: () => Promise<ReadinessReport>;
}): Promise<HealthServer> {
  const json = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = req.url?.split("?")[0];
    if (req.method === "GET" && url === "/healthz") {
      const live = options.liveness?.();
      if (!live || live.live) json(res, 200, { status: "ok", ...options.status?.() });
      else json(res, 503, { status: "dependency_unreachable", limitMs: live.limitMs, failing: live.failing, ...options.status?.() });
    } else if (req.method === "GET" && url === "/readyz") {
      if (!options.readiness) return json(res, 200, { status: "ready" });
      options.readiness().then(
        (r) => json(res, r.ready ? 200 : 503, { status: r.ready ? "ready" : "not_ready", required: r.required, dependencies: r.dependencies }),
        () => json(res, 503, { status: "not_ready" }),
      );
    } else if (req.method === "GET" && url === "/metrics" && options.registry) {
      const registry = options.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "not_found", message: "unknown path", details: null } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  let closing: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      })),
  };
}

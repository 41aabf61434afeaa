// A tiny HTTP server for the worker's probes: GET /healthz answers 200 while the process runs
// and touches no dependency (a liveness probe must not fail because Postgres is slow);
// GET /metrics serves Prometheus text.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

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
}): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const url = req.url?.split("?")[0];
    if (req.method === "GET" && url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", ...options.status?.() }));
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

// The pino logger of the services. Redacts credentials wherever they might be logged.

import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: ["apiToken", "config.apiToken", "operatorToken", "config.operatorToken", "req.headers.authorization", "headers.authorization"],
  });
}

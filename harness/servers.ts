/**
 * The one place tests read the addresses of Postgres, Redis and RabbitMQ from.
 *
 * test/setup/servers.ts (vitest globalSetup) decides them before any test file loads: the
 * servers named by JOBSTACK_TEST_PG_URL / JOBSTACK_TEST_REDIS_URL / JOBSTACK_TEST_AMQP_URL (by
 * default the machine's own on 5432, 6379, 5672) when they answer, otherwise throwaway servers
 * it starts, and exports the result in these same variables, which test workers and the
 * processes they spawn inherit.
 */
export const SERVER_ENV = {
  postgres: "JOBSTACK_TEST_PG_URL",
  redis: "JOBSTACK_TEST_REDIS_URL",
  rabbitmq: "JOBSTACK_TEST_AMQP_URL",
} as const;

export const DEFAULT_SERVER_URLS = {
  /** Superuser connection; tests create their own databases through it. */
  postgres: "postgres://postgres@127.0.0.1:5432/test",
  redis: "redis://127.0.0.1:6379/0",
  rabbitmq: "amqp://guest:guest@127.0.0.1:5672",
} as const;

export type ServerKind = keyof typeof SERVER_ENV;

export function serverUrl(kind: ServerKind, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[SERVER_ENV[kind]];
  return value === undefined || value === "" ? DEFAULT_SERVER_URLS[kind] : value;
}

export const PG_ADMIN_URL = serverUrl("postgres");
export const REDIS_URL = serverUrl("redis");
export const AMQP_URL = serverUrl("rabbitmq");

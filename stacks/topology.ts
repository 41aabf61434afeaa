/**
 * The target-neutral service graph of one environment: what runs, with which image, arguments,
 * environment, ports, health checks, volumes, resources and dependencies, and who may talk to
 * whom. Plain typed data with no provider imports; stacks/docker and stacks/kubernetes each
 * render it, so both targets carry the same derived numbers by construction.
 *
 * Secrets are never values here: an environment variable that needs one is a `SecretValue`
 * template naming the secret, and each target fills it from sensitive Terraform variables.
 */
import type { ResolvedEnvironment } from "./config/resolve.js";
import { API_PORT, JOB_QUEUE, serviceEnvironment, WORKER_HEALTH_PORT } from "./config/service-env.js";

export const SECRET_NAMES = ["postgres-password", "redis-password", "rabbitmq-password", "api-token"] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** A value assembled from literal text and secrets; `url` parts are percent-encoded when filled in. */
export interface SecretValue {
  /** Key of this value in the Kubernetes Secret (kebab-case). */
  readonly key: string;
  readonly parts: readonly (string | { readonly secret: SecretName; readonly encode: "url" | "raw" })[];
}

export type ServiceName = "api" | "worker" | "migrate" | "postgres" | "redis" | "rabbitmq";
/** The five long-running services every environment has. */
export const CORE_SERVICES = ["api", "worker", "postgres", "redis", "rabbitmq"] as const satisfies readonly ServiceName[];
export const DATA_SERVICES = ["postgres", "redis", "rabbitmq"] as const satisfies readonly ServiceName[];

export type ImageSpec =
  | { readonly kind: "pull"; readonly ref: string }
  | { readonly kind: "build"; readonly ref: string; readonly context: string; readonly dockerfile: string };

export type Probe =
  | { readonly kind: "http"; readonly path: string; readonly port: number }
  | { readonly kind: "exec"; readonly command: readonly string[] };

export interface HealthCheck {
  /** Is the process alive? Failing it restarts the container. */
  readonly liveness: Probe;
  /** Can it serve? Failing it takes the replica out of the load balancer (Kubernetes only). */
  readonly readiness: Probe;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
}

export interface Port {
  readonly name: string;
  readonly containerPort: number;
  /** Host port to publish (Docker) or expose outside the namespace (Kubernetes); only the api has one. */
  readonly publish?: number;
}

export interface DataVolume {
  /** Stable suffix of the volume / PVC name. */
  readonly name: string;
  readonly mountPath: string;
  readonly sizeGiB: number;
}

export interface ConfigFile {
  readonly name: string;
  readonly mountPath: string;
  readonly content: string;
}

export interface SecurityProfile {
  /** uid:gid to run as; the official images' own users (999) and the node image's (1000). */
  readonly user: string;
  readonly readOnlyRootFilesystem: boolean;
  /** Writable scratch folders when the root is read-only. */
  readonly tmpfs: readonly string[];
  /** Capabilities kept after dropping ALL. */
  readonly capAdd: readonly string[];
}

export interface ServiceSpec {
  readonly name: ServiceName;
  /** app: our processes; data: stateful backends; task: runs once to completion. */
  readonly kind: "app" | "data" | "task";
  readonly image: ImageSpec;
  /** Replaces the image's command (Docker `command`, Kubernetes `args`). */
  readonly command: readonly string[];
  /** Replaces the image's entrypoint when set (Kubernetes `command`). */
  readonly entrypoint?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly secretEnv: Readonly<Record<string, SecretValue>>;
  readonly ports: readonly Port[];
  readonly health?: HealthCheck;
  readonly volumes: readonly DataVolume[];
  readonly configFiles: readonly ConfigFile[];
  readonly resources: { readonly cpu: number; readonly memoryMiB: number };
  readonly replicas: number;
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuPercent: number };
  readonly dependsOn: readonly ServiceName[];
  readonly security: SecurityProfile;
  /** /dev/shm size for Postgres' parallel query workers. */
  readonly shmSizeMiB?: number;
}

/** A permitted connection; everything else is denied where the target can enforce it. */
export interface Edge {
  readonly from: ServiceName | "ingress";
  readonly to: ServiceName;
  readonly port: number;
}

export interface Topology {
  readonly environment: string;
  readonly network: string;
  readonly services: readonly ServiceSpec[];
  readonly edges: readonly Edge[];
  readonly rollout: { readonly maxSurge: number; readonly maxUnavailable: number };
}

export const PORTS = { api: API_PORT, workerHealth: WORKER_HEALTH_PORT, postgres: 5432, redis: 6379, rabbitmq: 5672 } as const;
const DB_USER = "jobstack";
const DB_NAME = "jobstack";
const RABBITMQ_USER = "jobstack";
const OFFICIAL_IMAGE_USER = "999:999";
const NODE_IMAGE_USER = "1000:1000";

const url = (secret: SecretName) => ({ secret, encode: "url" as const });
const raw = (secret: SecretName) => ({ secret, encode: "raw" as const });

/** Connection URLs for the app processes, with passwords filled in by the target. */
export const CONNECTION_SECRETS = {
  DATABASE_URL: { key: "database-url", parts: [`postgres://${DB_USER}:`, url("postgres-password"), `@postgres:${PORTS.postgres}/${DB_NAME}`] },
  REDIS_URL: { key: "redis-url", parts: ["redis://:", url("redis-password"), `@redis:${PORTS.redis}/0`] },
  AMQP_URL: { key: "amqp-url", parts: [`amqp://${RABBITMQ_USER}:`, url("rabbitmq-password"), `@rabbitmq:${PORTS.rabbitmq}`] },
  API_TOKEN: { key: "api-token", parts: [raw("api-token")] },
} as const satisfies Record<string, SecretValue>;

function image(env: ResolvedEnvironment, which: "api" | "worker"): ImageSpec {
  const spec = env.environment.images[which];
  return "image" in spec
    ? { kind: "pull", ref: spec.image }
    : { kind: "build", ref: spec.build.tag, context: spec.build.context, dockerfile: spec.build.dockerfile };
}

function timing(env: ResolvedEnvironment) {
  const h = env.preset.healthCheck;
  return { intervalSeconds: h.intervalSeconds, timeoutSeconds: h.timeoutSeconds, retries: h.retries, startPeriodSeconds: h.startPeriodSeconds };
}

const NODE_SECURITY: SecurityProfile = { user: NODE_IMAGE_USER, readOnlyRootFilesystem: true, tmpfs: ["/tmp"], capAdd: [] };

function apiService(env: ResolvedEnvironment): ServiceSpec {
  const p = env.preset.api;
  const publish = env.environment.docker?.apiPort;
  return {
    name: "api",
    kind: "app",
    image: image(env, "api"),
    command: ["api"],
    env: serviceEnvironment(env, "api"),
    secretEnv: CONNECTION_SECRETS,
    ports: [{ name: "http", containerPort: PORTS.api, ...(publish ? { publish } : {}) }],
    health: {
      liveness: { kind: "http", path: "/healthz", port: PORTS.api },
      readiness: { kind: "http", path: "/readyz", port: PORTS.api },
      ...timing(env),
    },
    volumes: [],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: p.replicas,
    dependsOn: ["migrate", "postgres", "redis", "rabbitmq"],
    security: NODE_SECURITY,
  };
}

function workerService(env: ResolvedEnvironment): ServiceSpec {
  const p = env.preset.worker;
  const jvm = env.environment.worker.runtime === "jvm";
  const healthz: Probe = { kind: "http", path: "/healthz", port: PORTS.workerHealth };
  const autoscaling = p.autoscaling?.enabled ? p.autoscaling : undefined;
  return {
    name: "worker",
    kind: "app",
    image: image(env, "worker"),
    // A JVM worker image brings its own entrypoint; ours selects the role by command.
    command: jvm ? [] : ["worker"],
    env: { ...serviceEnvironment(env, "worker") },
    secretEnv: { DATABASE_URL: CONNECTION_SECRETS.DATABASE_URL, REDIS_URL: CONNECTION_SECRETS.REDIS_URL, AMQP_URL: CONNECTION_SECRETS.AMQP_URL },
    ports: [{ name: "health", containerPort: PORTS.workerHealth }],
    // The node worker's /readyz fails at once while Postgres or RabbitMQ is unavailable, its
    // /healthz only after DEPENDENCY_LIVENESS_LIMIT_MS (docs/health-probes.md); a JVM image is
    // only known to serve /healthz.
    health: { liveness: healthz, readiness: jvm ? healthz : { kind: "http", path: "/readyz", port: PORTS.workerHealth }, ...timing(env) },
    volumes: [],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: p.replicas,
    ...(autoscaling
      ? { autoscaling: { minReplicas: autoscaling.minReplicas, maxReplicas: autoscaling.maxReplicas, targetCpuPercent: autoscaling.targetCpuPercent } }
      : {}),
    dependsOn: ["migrate", "postgres", "redis", "rabbitmq"],
    security: jvm ? { ...NODE_SECURITY, user: "10001:10001" } : NODE_SECURITY,
  };
}

function migrateTask(env: ResolvedEnvironment): ServiceSpec {
  return {
    name: "migrate",
    kind: "task",
    image: image(env, "api"),
    command: ["migrate"],
    env: { LOG_LEVEL: env.environment.logLevel },
    secretEnv: { DATABASE_URL: CONNECTION_SECRETS.DATABASE_URL },
    ports: [],
    volumes: [],
    configFiles: [],
    resources: { cpu: Math.min(env.preset.api.cpu, 0.5), memoryMiB: Math.max(env.preset.api.memoryMiB, 128) },
    replicas: 1,
    dependsOn: ["postgres"],
    security: NODE_SECURITY,
  };
}

function postgresService(env: ResolvedEnvironment): ServiceSpec {
  const p = env.preset.postgres;
  const ready: Probe = { kind: "exec", command: ["pg_isready", "-U", DB_USER, "-d", DB_NAME, "-h", "127.0.0.1"] };
  return {
    name: "postgres",
    kind: "data",
    image: { kind: "pull", ref: env.environment.images.postgres },
    command: ["postgres", ...env.derived.postgres.args],
    env: { POSTGRES_USER: DB_USER, POSTGRES_DB: DB_NAME, PGDATA: "/var/lib/postgresql/data/pgdata" },
    secretEnv: { POSTGRES_PASSWORD: { key: "postgres-password", parts: [raw("postgres-password")] } },
    ports: [{ name: "postgres", containerPort: PORTS.postgres }],
    health: { liveness: ready, readiness: ready, ...timing(env) },
    volumes: [{ name: "postgres-data", mountPath: "/var/lib/postgresql/data", sizeGiB: p.storageGiB }],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: 1,
    dependsOn: [],
    // The official image runs as its postgres user (999) when started as it, needing no capability.
    security: { user: OFFICIAL_IMAGE_USER, readOnlyRootFilesystem: true, tmpfs: ["/tmp", "/var/run/postgresql"], capAdd: [] },
    shmSizeMiB: env.derived.postgres.shmSizeMiB,
  };
}

function redisService(env: ResolvedEnvironment): ServiceSpec {
  const p = env.preset.redis;
  // redis-cli reads REDISCLI_AUTH, so the health check authenticates without the password on
  // its command line; the server takes it from the same variable through a shell.
  const ping: Probe = { kind: "exec", command: ["sh", "-c", "redis-cli ping | grep -q PONG"] };
  return {
    name: "redis",
    kind: "data",
    image: { kind: "pull", ref: env.environment.images.redis },
    entrypoint: ["sh", "-c", 'exec redis-server "$@" --requirepass "$REDISCLI_AUTH"', "redis-server"],
    command: [...env.derived.redis.args],
    env: {},
    secretEnv: { REDISCLI_AUTH: { key: "redis-password", parts: [raw("redis-password")] } },
    ports: [{ name: "redis", containerPort: PORTS.redis }],
    health: { liveness: ping, readiness: ping, ...timing(env) },
    volumes: [{ name: "redis-data", mountPath: "/data", sizeGiB: Math.max(1, Math.ceil(p.memoryMiB / 1024) * 2) }],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: 1,
    dependsOn: [],
    security: { user: OFFICIAL_IMAGE_USER, readOnlyRootFilesystem: true, tmpfs: ["/tmp"], capAdd: [] },
  };
}

function rabbitmqService(env: ResolvedEnvironment): ServiceSpec {
  const p = env.preset.rabbitmq;
  const ping: Probe = { kind: "exec", command: ["rabbitmq-diagnostics", "-q", "ping"] };
  return {
    name: "rabbitmq",
    kind: "data",
    image: { kind: "pull", ref: env.environment.images.rabbitmq },
    command: [],
    // A fixed node name keeps the data directory valid when the container (and hostname) changes.
    env: { RABBITMQ_DEFAULT_USER: RABBITMQ_USER, RABBITMQ_NODENAME: "rabbit@rabbitmq" },
    secretEnv: { RABBITMQ_DEFAULT_PASS: { key: "rabbitmq-password", parts: [raw("rabbitmq-password")] } },
    ports: [{ name: "amqp", containerPort: PORTS.rabbitmq }],
    health: { liveness: ping, readiness: ping, ...timing(env), startPeriodSeconds: Math.max(env.preset.healthCheck.startPeriodSeconds, 30) },
    volumes: [{ name: "rabbitmq-data", mountPath: "/var/lib/rabbitmq", sizeGiB: p.storageGiB }],
    configFiles: [{ name: "rabbitmq-conf", mountPath: "/etc/rabbitmq/conf.d/20-jobstack.conf", content: env.derived.rabbitmq.conf }],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: 1,
    dependsOn: [],
    // The image's entrypoint writes the Erlang cookie under /var/lib/rabbitmq (a volume) and
    // may render config under /etc/rabbitmq, so the root stays writable; it still runs as 999.
    security: { user: OFFICIAL_IMAGE_USER, readOnlyRootFilesystem: false, tmpfs: [], capAdd: [] },
  };
}

const APP_EDGES = (from: ServiceName): Edge[] => [
  { from, to: "postgres", port: PORTS.postgres },
  { from, to: "redis", port: PORTS.redis },
  { from, to: "rabbitmq", port: PORTS.rabbitmq },
];

export function buildTopology(env: ResolvedEnvironment): Topology {
  return {
    environment: env.name,
    network: `jobstack-${env.name}`,
    services: [postgresService(env), redisService(env), rabbitmqService(env), migrateTask(env), apiService(env), workerService(env)],
    edges: [
      { from: "ingress", to: "api", port: PORTS.api },
      ...APP_EDGES("api"),
      ...APP_EDGES("worker"),
      { from: "migrate", to: "postgres", port: PORTS.postgres },
    ],
    rollout: env.preset.rollout,
  };
}

export function service(topology: Topology, name: ServiceName): ServiceSpec {
  const found = topology.services.find((s) => s.name === name);
  if (!found) throw new Error(`topology of ${topology.environment} has no ${name} service`);
  return found;
}

export { JOB_QUEUE };

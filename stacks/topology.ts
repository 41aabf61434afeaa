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
import { API_PORT, JOB_QUEUE, serviceEnvironment, TOKEN_ENV, WORKER_HEALTH_PORT } from "./config/service-env.js";

/** `api-token` may submit and read jobs; `operator-token` may also retry and cancel them (docs/api-access.md). */
export const SECRET_NAMES = ["postgres-password", "redis-password", "rabbitmq-password", "api-token", "operator-token"] as const;
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
export type DataServiceName = (typeof DATA_SERVICES)[number];

export type ImageSpec =
  | { readonly kind: "pull"; readonly ref: string }
  | { readonly kind: "build"; readonly ref: string; readonly context: string; readonly dockerfile: string };

export type Probe =
  | { readonly kind: "http"; readonly path: string; readonly port: number }
  | { readonly kind: "exec"; readonly command: readonly string[] };

/**
 * What runs inside a container, which decides how a target that executes an HTTP probe inside
 * it (Docker's health check) does so: `node -e fetch(…)` in our Node image, wget or curl in an
 * operator's JVM image (stacks/docker/health.ts).
 */
export type ProbeRuntime = "node" | "jvm";

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
  /**
   * Runs the image of that service: a target that declares images as resources (Docker)
   * declares one for both, named after that service. @default its own image
   */
  readonly sharesImageWith?: ServiceName;
  /** Replaces the image's command (Docker `command`, Kubernetes `args`). */
  readonly command: readonly string[];
  /** Replaces the image's entrypoint when set (Kubernetes `command`). */
  readonly entrypoint?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly secretEnv: Readonly<Record<string, SecretValue>>;
  readonly ports: readonly Port[];
  readonly health?: HealthCheck;
  /** How an HTTP probe runs inside this image (see ProbeRuntime). @default "node" */
  readonly probeRuntime?: ProbeRuntime;
  /**
   * A host name fixed inside the container, where the target chooses one (Docker). Kubernetes
   * pods keep their own and resolve the service name to themselves instead. @default the target's
   */
  readonly hostname?: string;
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
  /** Last port of a range starting at `port` (RabbitMQ's CLI tools). @default port */
  readonly endPort?: number;
}

/**
 * A data service run elsewhere (`external.*` in the environment file): not deployed; the app
 * processes reach it at `host:port`, and the targets admit that egress (to `cidr` when given).
 */
export interface ExternalService {
  readonly name: DataServiceName;
  readonly host: string;
  readonly port: number;
  readonly cidr?: string;
  /** The processes that connect to it. */
  readonly clients: readonly ServiceName[];
  /** One line for `explain` and `graph`, e.g. `db.example.com:5432/jobstack sslmode=verify-full`. */
  readonly summary: string;
}

/** RabbitMQ's own traffic between the nodes of a cluster (docs/high-availability.md). */
export const RABBITMQ_CLUSTER_PORTS = { epmd: 4369, distribution: 25672, cliFirst: 35672, cliLast: 35682 } as const;

export interface Topology {
  readonly environment: string;
  readonly network: string;
  /** In dependency order: each service after everything it `dependsOn` (see `dependencyOrder`). */
  readonly services: readonly ServiceSpec[];
  readonly edges: readonly Edge[];
  /** Data services the environment declares external; absent from `services`. @default none */
  readonly external?: readonly ExternalService[];
  readonly rollout: { readonly maxSurge: number; readonly maxUnavailable: number };
}

export const PORTS = { api: API_PORT, workerHealth: WORKER_HEALTH_PORT, postgres: 5432, redis: 6379, rabbitmq: 5672, rabbitmqManagement: 15672 } as const;
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
  [TOKEN_ENV.submit]: { key: "api-token", parts: [raw("api-token")] },
  [TOKEN_ENV.operator]: { key: "operator-token", parts: [raw("operator-token")] },
} as const satisfies Record<string, SecretValue>;

/**
 * The connection URLs for this environment: the bundled services by name, or an external
 * service's declared host, port, user and TLS mode. Passwords stay secrets either way.
 */
export function connectionSecrets(env: ResolvedEnvironment) {
  const ext = env.environment.external;
  const pg = ext.postgres;
  const mq = ext.rabbitmq;
  const redis = ext.redis;
  // node-postgres reads `require` as verify-full unless asked for libpq's meaning (encrypt only).
  const sslQuery = (mode: string) => (mode === "require" ? "?sslmode=require&uselibpqcompat=true" : `?sslmode=${mode}`);
  const enc = encodeURIComponent;
  return {
    DATABASE_URL: {
      key: "database-url",
      parts: pg
        ? [`postgres://${enc(pg.user)}:`, url("postgres-password"), `@${hostPort(pg.host, pg.port)}/${enc(pg.database)}${sslQuery(pg.sslMode)}`]
        : CONNECTION_SECRETS.DATABASE_URL.parts,
    },
    REDIS_URL: {
      key: "redis-url",
      parts: redis ? [`${redis.tls ? "rediss" : "redis"}://:`, url("redis-password"), `@${hostPort(redis.host, redis.port)}/0`] : CONNECTION_SECRETS.REDIS_URL.parts,
    },
    AMQP_URL: {
      key: "amqp-url",
      parts: mq
        ? [`${mq.tls ? "amqps" : "amqp"}://${enc(mq.user)}:`, url("rabbitmq-password"), `@${hostPort(mq.host, externalRabbitmqPort(mq))}/${enc(mq.vhost)}`]
        : CONNECTION_SECRETS.AMQP_URL.parts,
    },
    [TOKEN_ENV.submit]: CONNECTION_SECRETS[TOKEN_ENV.submit],
    [TOKEN_ENV.operator]: CONNECTION_SECRETS[TOKEN_ENV.operator],
  } as const satisfies Record<string, SecretValue>;
}

const hostPort = (host: string, port: number) => (host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * RABBITMQ_MANAGEMENT_URL for the api, so `GET /jobs/stats` and `/metrics` report unacknowledged
 * messages (docs/metrics.md): the bundled image is the `-management` variant, whose HTTP API
 * listens on 15672 and admits the AMQP user (the image's default user is an administrator). The
 * password is encoded as in AMQP_URL. None for an external RabbitMQ, whose management endpoint
 * the environment does not describe: there `unacked` stays null.
 */
export function rabbitmqManagementSecret(env: ResolvedEnvironment): { RABBITMQ_MANAGEMENT_URL?: SecretValue } {
  if (env.environment.external.rabbitmq) return {};
  return {
    RABBITMQ_MANAGEMENT_URL: {
      key: "rabbitmq-management-url",
      parts: [`http://${RABBITMQ_USER}:`, url("rabbitmq-password"), `@rabbitmq:${PORTS.rabbitmqManagement}`],
    },
  };
}

const externalRabbitmqPort = (mq: { port?: number | undefined; tls: boolean }) => mq.port ?? (mq.tls ? 5671 : PORTS.rabbitmq);

/** The external services an environment declares, in a fixed order. */
export function externalServices(env: ResolvedEnvironment): ExternalService[] {
  const { postgres: pg, rabbitmq: mq, redis } = env.environment.external;
  const out: ExternalService[] = [];
  const cidr = (c: string | undefined) => (c ? { cidr: c } : {});
  if (pg) out.push({ name: "postgres", host: pg.host, port: pg.port, ...cidr(pg.cidr), clients: ["api", "worker", "migrate"], summary: `${hostPort(pg.host, pg.port)}/${pg.database} user ${pg.user} sslmode=${pg.sslMode}, max_connections ${pg.maxConnections}` });
  if (redis) out.push({ name: "redis", host: redis.host, port: redis.port, ...cidr(redis.cidr), clients: ["api", "worker"], summary: `${hostPort(redis.host, redis.port)}${redis.tls ? " TLS (rediss://)" : " plain TCP"}` });
  if (mq) {
    const port = externalRabbitmqPort(mq);
    out.push({ name: "rabbitmq", host: mq.host, port, ...cidr(mq.cidr), clients: ["api", "worker"], summary: `${hostPort(mq.host, port)} vhost ${mq.vhost} user ${mq.user}${mq.tls ? " TLS (amqps://)" : " plain TCP"}` });
  }
  return out;
}

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
    secretEnv: { ...connectionSecrets(env), ...rabbitmqManagementSecret(env) },
    ports: [{ name: "http", containerPort: PORTS.api, ...(publish ? { publish } : {}) }],
    health: {
      liveness: { kind: "http", path: "/healthz", port: PORTS.api },
      readiness: { kind: "http", path: "/readyz", port: PORTS.api },
      ...timing(env),
    },
    probeRuntime: "node",
    volumes: [],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: p.replicas,
    dependsOn: ["migrate", ...bundled(env, ["postgres", "redis", "rabbitmq"])],
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
    secretEnv: (({ DATABASE_URL, REDIS_URL, AMQP_URL }) => ({ DATABASE_URL, REDIS_URL, AMQP_URL }))(connectionSecrets(env)),
    ports: [{ name: "health", containerPort: PORTS.workerHealth }],
    // The node worker's /readyz fails at once while Postgres or RabbitMQ is unavailable, its
    // /healthz only after DEPENDENCY_LIVENESS_LIMIT_MS (docs/health-probes.md); a JVM image is
    // only known to serve /healthz.
    health: { liveness: healthz, readiness: jvm ? healthz : { kind: "http", path: "/readyz", port: PORTS.workerHealth }, ...timing(env) },
    probeRuntime: env.environment.worker.runtime,
    volumes: [],
    configFiles: [],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    replicas: p.replicas,
    ...(autoscaling
      ? { autoscaling: { minReplicas: autoscaling.minReplicas, maxReplicas: autoscaling.maxReplicas, targetCpuPercent: autoscaling.targetCpuPercent } }
      : {}),
    dependsOn: ["migrate", ...bundled(env, ["postgres", "redis", "rabbitmq"])],
    security: jvm ? { ...NODE_SECURITY, user: "10001:10001" } : NODE_SECURITY,
  };
}

function migrateTask(env: ResolvedEnvironment): ServiceSpec {
  return {
    name: "migrate",
    kind: "task",
    image: image(env, "api"),
    sharesImageWith: "api",
    command: ["migrate"],
    env: { LOG_LEVEL: env.environment.logLevel },
    secretEnv: { DATABASE_URL: connectionSecrets(env).DATABASE_URL },
    ports: [],
    volumes: [],
    configFiles: [],
    resources: { cpu: Math.min(env.preset.api.cpu, 0.5), memoryMiB: Math.max(env.preset.api.memoryMiB, 128) },
    replicas: 1,
    dependsOn: bundled(env, ["postgres"]),
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
    // The management API serves the api's unacked figure (api → rabbitmq:15672, nothing published).
    ports: [
      { name: "amqp", containerPort: PORTS.rabbitmq },
      { name: "management", containerPort: PORTS.rabbitmqManagement },
    ],
    health: { liveness: ping, readiness: ping, ...timing(env), startPeriodSeconds: Math.max(env.preset.healthCheck.startPeriodSeconds, 30) },
    // The node name rabbit@rabbitmq names the data directory; a replaced container must keep it.
    hostname: "rabbitmq",
    volumes: [{ name: "rabbitmq-data", mountPath: "/var/lib/rabbitmq", sizeGiB: p.storageGiB }],
    configFiles: [{ name: "rabbitmq-conf", mountPath: "/etc/rabbitmq/conf.d/20-jobstack.conf", content: env.derived.rabbitmq.conf }],
    resources: { cpu: p.cpu, memoryMiB: p.memoryMiB },
    // A cluster on Kubernetes (stacks/kubernetes/rabbitmq-cluster.ts); the config checks keep it
    // to 1 or an odd number, and to 1 on Docker.
    replicas: env.environment.rabbitmq.replicas,
    dependsOn: [],
    // The image's entrypoint writes the Erlang cookie under /var/lib/rabbitmq (a volume) and
    // may render config under /etc/rabbitmq, so the root stays writable; it still runs as 999.
    security: { user: OFFICIAL_IMAGE_USER, readOnlyRootFilesystem: false, tmpfs: [], capAdd: [] },
  };
}

/** The data services of `names` that this environment deploys (the rest are external). */
function bundled<T extends DataServiceName>(env: ResolvedEnvironment, names: readonly T[]): T[] {
  return names.filter((n) => env.environment.external[n] === undefined);
}

/** Edges to bundled data services only; external ones are egress (Topology.external). */
const APP_EDGES = (env: ResolvedEnvironment, from: ServiceName): Edge[] =>
  [
    { from, to: "postgres" as const, port: PORTS.postgres },
    { from, to: "redis" as const, port: PORTS.redis },
    { from, to: "rabbitmq" as const, port: PORTS.rabbitmq },
  ].filter((e) => env.environment.external[e.to] === undefined);

/** Epmd, distribution and CLI-tool ports between the nodes of a RabbitMQ cluster. */
const CLUSTER_EDGES: Edge[] = [
  { from: "rabbitmq", to: "rabbitmq", port: RABBITMQ_CLUSTER_PORTS.epmd },
  { from: "rabbitmq", to: "rabbitmq", port: RABBITMQ_CLUSTER_PORTS.distribution },
  { from: "rabbitmq", to: "rabbitmq", port: RABBITMQ_CLUSTER_PORTS.cliFirst, endPort: RABBITMQ_CLUSTER_PORTS.cliLast },
];

export function buildTopology(env: ResolvedEnvironment): Topology {
  const builders: Record<DataServiceName, (e: ResolvedEnvironment) => ServiceSpec> = { postgres: postgresService, redis: redisService, rabbitmq: rabbitmqService };
  const data = bundled(env, DATA_SERVICES).map((name) => builders[name](env));
  const external = externalServices(env);
  const clustered = data.some((s) => s.name === "rabbitmq" && s.replicas > 1);
  return {
    environment: env.name,
    network: `jobstack-${env.name}`,
    services: dependencyOrder({ environment: env.name, services: [...data, migrateTask(env), apiService(env), workerService(env)] }),
    edges: [
      { from: "ingress", to: "api", port: PORTS.api },
      ...APP_EDGES(env, "api"),
      // Only the api reads queue depths from the management API (rabbitmqManagementSecret).
      ...(env.environment.external.rabbitmq ? [] : [{ from: "api" as const, to: "rabbitmq" as const, port: PORTS.rabbitmqManagement }]),
      ...APP_EDGES(env, "worker"),
      ...(env.environment.external.postgres ? [] : [{ from: "migrate" as const, to: "postgres" as const, port: PORTS.postgres }]),
      ...(clustered ? CLUSTER_EDGES : []),
    ],
    ...(external.length > 0 ? { external } : {}),
    rollout: env.preset.rollout,
  };
}

/**
 * The services with each one after everything it depends on, otherwise in the given order.
 * `buildTopology` lists its services this way, so both renderers create resources in
 * `Topology.services` order and each finds what it waits for already created. An unknown
 * dependency or a cycle is a bug in the topology and fails here, before anything is rendered.
 */
export function dependencyOrder(topology: Pick<Topology, "environment" | "services">): ServiceSpec[] {
  const byName = new Map(topology.services.map((s) => [s.name, s]));
  const state = new Map<ServiceName, "visiting" | "done">();
  const ordered: ServiceSpec[] = [];
  const visit = (s: ServiceSpec, path: readonly ServiceName[]): void => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") {
      throw new Error(`topology ${topology.environment} has a circular dependency (dependency cycle: ${[...path, s.name].join(" → ")})`);
    }
    state.set(s.name, "visiting");
    for (const name of s.dependsOn) {
      const dependency = byName.get(name);
      if (!dependency) throw new Error(`topology ${topology.environment}: ${s.name} depends on ${name}, which is not a service of it`);
      visit(dependency, [...path, s.name]);
    }
    state.set(s.name, "done");
    ordered.push(s);
  };
  for (const s of topology.services) visit(s, []);
  return ordered;
}

export function service(topology: Topology, name: ServiceName): ServiceSpec {
  const found = topology.services.find((s) => s.name === name);
  if (!found) throw new Error(`topology of ${topology.environment} has no ${name} service`);
  return found;
}

export { JOB_QUEUE };

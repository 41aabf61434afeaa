/**
 * The shape of an environment file, `stacks/environments/<name>.yaml`.
 *
 * An environment says where the system runs (target and its settings), which preset tunes it,
 * which images to run, and where Terraform keeps state. It never holds a secret: passwords and
 * the API token arrive as sensitive Terraform variables at deploy time.
 */
import { z } from "zod";

/**
 * A pinned image reference: `name:tag` or `name@sha256:…`. A missing tag or `latest` is refused,
 * since an unpinned image makes two deploys of the same commit run different code.
 */
export const PinnedImageSchema = z
  .string()
  .regex(
    /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "must be an image reference like postgres:16.4-bookworm",
  )
  .refine((ref) => /@sha256:/.test(ref) || /:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ref.split("/").pop() ?? ""), {
    message: "must be pinned with a tag or digest (e.g. redis:7.4.1-alpine)",
  })
  .refine((ref) => !/:latest$/.test(ref), { message: "must not use the moving tag 'latest'" });

export const BuildSchema = z.strictObject({
  /** Build context, relative to the repository root. @default "." */
  context: z.string().default("."),
  /** @default "services/Dockerfile" */
  dockerfile: z.string().default("services/Dockerfile"),
  /** The tag given to the built image; a build is pinned by this tag. */
  tag: PinnedImageSchema,
});

export const AppImageSchema = z.union([
  z.strictObject({ image: PinnedImageSchema }),
  z.strictObject({ build: BuildSchema }),
]);

export const DockerTargetSchema = z.strictObject({
  /** Docker daemon address. @default "unix:///var/run/docker.sock" */
  host: z.string().default("unix:///var/run/docker.sock"),
  /** Folder with ca.pem, cert.pem, key.pem for a TLS daemon (`tcp://…:2376`). */
  certPath: z.string().optional(),
  /** True when `host` is a Swarm manager; overlay networks and `docker_service` need it. @default false */
  swarmManager: z.boolean().default(false),
  network: z.strictObject({
    driver: z.enum(["bridge", "overlay"]),
    /** IPsec encryption of overlay traffic between nodes. @default false */
    encrypted: z.boolean().default(false),
    subnet: z.string().optional(),
  }),
  /** Host port the API is published on; the only published port. @default 8080 */
  apiPort: z.number().int().min(1).max(65535).default(8080),
});

export const KubernetesTargetSchema = z.strictObject({
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label").max(63),
  kubeconfig: z.strictObject({
    path: z.string().default("~/.kube/config"),
    context: z.string().optional(),
  }),
  storageClass: z.string().min(1),
  apiService: z
    .strictObject({ type: z.enum(["ClusterIP", "LoadBalancer", "NodePort"]).default("ClusterIP") })
    .default({ type: "ClusterIP" }),
  ingress: z
    .strictObject({
      host: z.string().min(1),
      className: z.string().default("nginx"),
      tlsSecretName: z.string().optional(),
      /**
       * Where the TLS Secret comes from. `existing`: you create it in the namespace (possible only
       * after a first apply, since this stack creates the namespace). `variables`: this stack
       * creates it from the sensitive variables TF_VAR_tls_certificate and TF_VAR_tls_private_key
       * (PEM), so the first apply serves HTTPS.
       */
      tlsSecretSource: z.enum(["existing", "variables"]).default("existing"),
      /**
       * Namespace of the ingress controller. When set, only its pods may reach the api;
       * otherwise any source may (LoadBalancer and NodePort traffic comes from node addresses).
       */
      controllerNamespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label").max(63).optional(),
    })
    .optional(),
});

export const BackendSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("local"), path: z.string().optional() }),
  z.strictObject({
    type: z.literal("s3"),
    bucket: z.string().min(1),
    key: z.string().min(1),
    region: z.string().min(1),
    dynamodbTable: z.string().optional(),
    encrypt: z.boolean().default(true),
  }),
  z.strictObject({
    type: z.literal("remote"),
    organization: z.string().min(1),
    workspace: z.string().min(1),
    hostname: z.string().default("app.terraform.io"),
  }),
]);

/** An IPv4 or IPv6 CIDR block, e.g. `10.20.0.0/16`; NetworkPolicies admit egress to it. */
const CidrSchema = z
  .string()
  .regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/, "must be a CIDR block such as 10.20.0.0/16");
const hostField = () =>
  z.string({ error: "is required: an external service is reached at a host name or address" }).min(1, { error: "is required: an external service is reached at a host name or address" });
const portField = z.number().int().min(1).max(65535);

/**
 * External (managed or operator-run) data services. A service listed here is not deployed; the
 * api, worker and migration connect to `host` instead, with the password from the same
 * sensitive variable (or Secret) the bundled service would use. See docs/high-availability.md.
 */
export const ExternalPostgresSchema = z.strictObject({
  host: hostField(),
  /** @default 5432 */
  port: portField.default(5432),
  database: z.string().min(1),
  user: z.string().min(1),
  /**
   * Carried into DATABASE_URL as `sslmode=`. node-postgres (pg-connection-string) verifies the
   * certificate and host name for `verify-full`; `require` encrypts without verifying (libpq's
   * meaning, through `uselibpqcompat=true`); `disable` is refused in prod-like tiers.
   * @default "verify-full"
   */
  sslMode: z.enum(["disable", "require", "verify-full"]).default("verify-full"),
  /** The server's max_connections; the pools' connection budget is checked against it. */
  maxConnections: z.number().int().min(1),
  /** Where the server's addresses lie; egress is admitted to any address when absent. */
  cidr: CidrSchema.optional(),
});

export const ExternalRabbitmqSchema = z.strictObject({
  host: hostField(),
  /** @default 5671 with tls, 5672 without */
  port: portField.optional(),
  /** @default "/" */
  vhost: z.string().min(1).default("/"),
  user: z.string().min(1),
  /** amqps:// (TLS, server certificate verified) instead of amqp://. @default true */
  tls: z.boolean().default(true),
  cidr: CidrSchema.optional(),
});

export const ExternalRedisSchema = z.strictObject({
  host: hostField(),
  /** @default 6379 */
  port: portField.default(6379),
  /** rediss:// (TLS, server certificate verified) instead of redis://. @default true */
  tls: z.boolean().default(true),
  cidr: CidrSchema.optional(),
});

export const ExternalSchema = z.strictObject({
  postgres: ExternalPostgresSchema.optional(),
  rabbitmq: ExternalRabbitmqSchema.optional(),
  redis: ExternalRedisSchema.optional(),
});

export const RabbitmqDeploymentSchema = z.strictObject({
  /**
   * RabbitMQ nodes. 1, or an odd number of at least 3: a cluster keeps working while a majority
   * of its nodes is up, so 2 survives nothing and an even count adds a node without adding
   * tolerance. More than 1 needs the kubernetes target. @default 1
   */
  replicas: z.number().int().min(1).max(9).default(1),
});

export const EnvironmentSchema = z.strictObject({
  description: z.string().optional(),
  target: z.enum(["docker", "kubernetes"]),
  /** dev may use generated secrets and verbose logs; staging and prod are prod-like and may not. */
  tier: z.enum(["dev", "staging", "prod"]),
  preset: z.string().min(1),
  docker: DockerTargetSchema.optional(),
  kubernetes: KubernetesTargetSchema.optional(),
  images: z.strictObject({
    api: AppImageSchema,
    worker: AppImageSchema,
    // Supported releases, pinned by tag and by digest (the multi-platform index digest from
    // docker-library/repo-info); docs/server-versions.md says where each came from and what was
    // checked against the versions the tests run on.
    postgres: PinnedImageSchema.default("postgres:16.15-bookworm@sha256:efedf3595f1d6f415c08568ba171029bf54052e754cc9f030e3f2412b21f3d67"),
    redis: PinnedImageSchema.default("redis:7.4.11-bookworm@sha256:c6eabf748fc7a61dbb5a705c78bcf3d6377b1127a97d0ce965c11c44ba46896f"),
    rabbitmq: PinnedImageSchema.default("rabbitmq:4.3.6-management@sha256:c6c748ed27d7fd3733187c73cd022feae76d6a7c2ffa4bf1ab3ef75edfdb9797"),
  }),
  worker: z
    .strictObject({
      /** `jvm` runs a JVM-based worker image of your own (images.worker.image). @default "node" */
      runtime: z.enum(["node", "jvm"]).default("node"),
    })
    .default({ runtime: "node" }),
  secrets: z
    .strictObject({
      /** Generate throwaway passwords with the random provider instead of requiring TF_VAR_*. @default false */
      generateDevelopmentSecrets: z.boolean().default(false),
    })
    .default({ generateDevelopmentSecrets: false }),
  /**
   * Handler modules the api and the worker load (JOB_HANDLER_MODULES): paths from the repository
   * root (a module file or a folder of them, inside handlers/ or examples/) or package names.
   * @default every module in the repository's handlers/ folder (stacks/config/handlers.ts)
   */
  handlers: z
    .array(
      z
        .string()
        .min(1)
        .regex(/^[^\s,]+$/, "must not contain spaces or commas (JOB_HANDLER_MODULES is a comma-separated list)")
        .refine((s) => !s.startsWith("/"), { message: "must be relative to the repository root (./handlers/x.ts) or a package name: the image has no such absolute path" }),
    )
    .optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  backend: BackendSchema.default({ type: "local" }),
  /** How the bundled RabbitMQ is deployed (its tuning stays in the preset). */
  rabbitmq: RabbitmqDeploymentSchema.default({ replicas: 1 }),
  /** Data services run elsewhere (managed databases); each one listed is not deployed. */
  external: ExternalSchema.default({}),
  /** A partial preset merged over the named one, then validated as a whole. */
  overrides: z.record(z.string(), z.unknown()).default({}),
});

/** staging and prod may not use insecure defaults (generated secrets, debug logs, plain TCP, …). */
export const isProdLike = (tier: Environment["tier"]): boolean => tier !== "dev";

export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Environment = z.output<typeof EnvironmentSchema>;
export type AppImage = z.output<typeof AppImageSchema>;
export type DockerTarget = z.output<typeof DockerTargetSchema>;
export type KubernetesTarget = z.output<typeof KubernetesTargetSchema>;
export type Backend = z.output<typeof BackendSchema>;
export type External = z.output<typeof ExternalSchema>;
export type ExternalPostgres = z.output<typeof ExternalPostgresSchema>;
export type ExternalRabbitmq = z.output<typeof ExternalRabbitmqSchema>;
export type ExternalRedis = z.output<typeof ExternalRedisSchema>;

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
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  backend: BackendSchema.default({ type: "local" }),
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

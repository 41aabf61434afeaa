/**
 * One `docker_image` per distinct image. Pulled images are pinned by tag (the config schema
 * refuses `latest` and untagged references); built images are tagged with the environment's
 * `build.tag`, and api and worker share one build when they name the same tag.
 *
 * Builds run where Terraform runs, and cdktf runs Terraform in `cdktf.out/stacks/<env>`, so the
 * build context is expressed relative to that folder with Terraform's `path.module` and made
 * absolute by Terraform at plan time: constructs never read the disk, and cdk.tf.json stays the
 * same on every machine. A hash of the sources the Dockerfile copies is the rebuild trigger, also
 * computed by Terraform, so editing services/ rebuilds the image on the next deploy.
 */
import { Image } from "@cdktf/provider-docker/lib/image/index.js";
import { Construct } from "constructs";
import type { ImageSpec, ServiceSpec } from "../topology.js";

/** The repository root, relative to Terraform's working directory `cdktf.out/stacks/<env>`. */
export const DEFAULT_BUILD_ROOT = "../../..";
/** What services/Dockerfile copies into the image (handler modules included); a change to any of these rebuilds it. */
const BUILD_INPUTS = "{package.json,package-lock.json,tsconfig.json,services/**,handlers/**,examples/**}";

export interface ImagesProps {
  /** @default DEFAULT_BUILD_ROOT */
  readonly buildRoot?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export class Images extends Construct {
  readonly buildRoot: string;
  private readonly labels: Readonly<Record<string, string>>;
  private readonly byRef = new Map<string, { spec: ImageSpec; image: Image }>();

  constructor(scope: Construct, id: string, props: ImagesProps) {
    super(scope, id);
    this.buildRoot = props.buildRoot ?? DEFAULT_BUILD_ROOT;
    this.labels = props.labels;
  }

  /** All images declared so far, by reference. */
  get all(): ReadonlyMap<string, Image> {
    return new Map([...this.byRef].map(([ref, v]) => [ref, v.image]));
  }

  /**
   * The image of a service, declared on first use under `id` (a stable, role-based name such as
   * `api` or `postgres`, so that a new tag updates the resource instead of re-addressing it).
   */
  forService(service: ServiceSpec, id: string = service.name): Image {
    const spec = service.image;
    const known = this.byRef.get(spec.ref);
    if (known) {
      if (!sameImage(known.spec, spec)) {
        throw new Error(
          `image ${spec.ref}: ${service.name} declares it as ${describe(spec)}, another service as ${describe(known.spec)}; give the build its own tag`,
        );
      }
      return known.image;
    }
    const image = spec.kind === "pull" ? this.pulled(id, spec.ref) : this.built(id, spec);
    this.byRef.set(spec.ref, { spec, image });
    return image;
  }

  private pulled(id: string, ref: string): Image {
    // keep_locally: destroying the stack must not delete an image other stacks may use.
    return new Image(this, id, { name: ref, keepLocally: true });
  }

  private built(id: string, spec: Extract<ImageSpec, { kind: "build" }>): Image {
    // An HCL expression, evaluated by Terraform: abspath("<module dir>/<build root>/<context>").
    const dir = abspathExpr([this.buildRoot, ...(spec.context === "." ? [] : [spec.context])]);
    return new Image(this, id, {
      name: spec.ref,
      keepLocally: true,
      buildAttribute: {
        context: `\${${dir}}`,
        dockerfile: spec.dockerfile,
        tag: [spec.ref],
        // BuildKit: services/Dockerfile uses `# syntax=` and `COPY --chmod`.
        version: "2",
        label: { ...this.labels },
      },
      triggers: {
        sources: `\${sha1(join("", [for f in sort(fileset(${dir}, "${BUILD_INPUTS}")) : filesha1(format("%s/%s", ${dir}, f))]))}`,
      },
    });
  }
}

/** `abspath(format("%s/…", path.module, …))`: pure string building, Terraform resolves it. */
function abspathExpr(parts: readonly string[]): string {
  const pattern = ["%s", ...parts.map(() => "%s")].join("/");
  return `abspath(format("${pattern}", path.module, ${parts.map((p) => JSON.stringify(p)).join(", ")}))`;
}

function sameImage(a: ImageSpec, b: ImageSpec): boolean {
  if (a.kind === "pull" || b.kind === "pull") return a.kind === b.kind && a.ref === b.ref;
  return a.ref === b.ref && a.context === b.context && a.dockerfile === b.dockerfile;
}

function describe(spec: ImageSpec): string {
  return spec.kind === "pull" ? `pulled` : `built from ${spec.context} with ${spec.dockerfile}`;
}

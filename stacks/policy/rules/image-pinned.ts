/** Every image is pinned: a digest, or a tag other than `latest`. */
import { resources, str, workloads } from "../model.js";
import type { Rule, Violation } from "../types.js";
import { violation } from "../violation.js";

/** Why an image reference is not pinned, or undefined when it is. */
export function unpinned(image: string | undefined): string | undefined {
  if (!image) return "has no image";
  if (image.includes("${")) return `image "${image}" cannot be checked (it is computed)`;
  if (/@sha256:/.test(image)) return undefined;
  const last = image.split("/").pop() ?? image;
  const colon = last.indexOf(":");
  if (colon < 0) return `image "${image}" has no tag (means :latest)`;
  const tag = last.slice(colon + 1);
  if (tag === "" || tag === "latest") return `image "${image}" uses the latest tag`;
  return undefined;
}

export const imagePinned: Rule = {
  id: "image-pinned",
  rationale: "An unpinned image changes under you: two replicas, or today's and tomorrow's deploy, run different code.",
  fix: "pin the image to a version tag or a digest (name:1.2.3 or name@sha256:…) in the environment file",
  check(stack) {
    const out: Violation[] = [];
    for (const w of workloads(stack)) {
      const problem = unpinned(w.image);
      if (problem) out.push(violation(this, stack.name, w.where, `${w.role ?? w.container ?? w.resource.name} ${problem}`));
    }
    for (const img of resources(stack, "docker_image")) {
      const problem = unpinned(str(img.body.name));
      if (problem) out.push(violation(this, stack.name, img.address, problem));
    }
    return out;
  },
};

/**
 * One snapshot of the whole stack per shipped Docker environment: dev (bridge, containers) and
 * staging (overlay, Swarm services). A diff here is a change to what `terraform apply` receives;
 * review it like one, then `npx vitest run test/stacks/docker -u`.
 */
import { describe, expect, it } from "vitest";
import { synthNamed } from "./helpers.js";

describe("synthesized stacks", () => {
  it.each(["dev", "staging"])("%s matches its snapshot", (name) => {
    const { json, env } = synthNamed(name);
    expect(env.environment.docker!.network.driver).toBe(name === "dev" ? "bridge" : "overlay");
    expect(json).toMatchSnapshot();
  });
});
